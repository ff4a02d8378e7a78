import {
  type KfOutboundMessage,
  type KfOutboundRequest,
  type MpOutboundMessage,
  type MpOutboundRequest,
  OUTBOUND_SCHEMA,
} from '../lib/contracts/outbound';

type Upload = (
  type: 'image' | 'voice' | 'video' | 'file' | 'thumb',
  filename: string,
  data: Buffer,
) => string;

const FILE = Buffer.from('kf-bridge e2e media file');

/** Three replies per kf customer who wrote, cycling through every kf message type, media uploaded beforehand. */
export function kfReplies(customers: string[], upload: Upload): KfOutboundRequest[] {
  const image = upload('image', 'photo.png', FILE);
  const messages: KfOutboundMessage[] = [
    { type: 'text', content: '您好，已收到' },
    { type: 'image', mediaId: image },
    { type: 'voice', mediaId: upload('voice', 'note.amr', FILE) },
    { type: 'video', mediaId: upload('video', 'clip.mp4', FILE) },
    { type: 'file', mediaId: upload('file', 'terms.pdf', FILE) },
    {
      type: 'link',
      title: '订单详情',
      description: '点击查看',
      url: 'https://example.com/order',
      thumbMediaId: image,
    },
    {
      type: 'miniprogram',
      appId: 'wx0000000000000001',
      title: '小程序',
      thumbMediaId: image,
      pagePath: 'pages/index',
    },
    {
      type: 'msgmenu',
      headContent: '请评价',
      list: [{ type: 'click', click: { id: '1', content: '满意' } }],
      tailContent: '谢谢',
    },
    { type: 'location', latitude: 23.1066, longitude: 113.3245, name: '广州塔', address: '广州市海珠区' },
    { type: 'ca_link', linkUrl: 'https://work.weixin.qq.com/ca/e2e' },
  ];
  let next = 0;
  return customers.flatMap((key) => {
    const [openKfId = '', externalUserId = ''] = key.split('#');
    return [0, 1, 2].map((n) => ({
      schema: OUTBOUND_SCHEMA,
      requestId: `e2e-${externalUserId}-${n}`,
      app: 'default',
      channel: 'kf' as const,
      openKfId,
      externalUserId,
      message: messages[next++ % messages.length] as KfOutboundMessage,
    }));
  });
}

/** MP replies per follower: "typing…", then 5 messages of distinct types, cycling through every MP type. */
export const MP_REPLIES_PER_FOLLOWER = 5;

export function mpReplies(followers: string[], upload: Upload): MpOutboundRequest[] {
  const thumb = upload('thumb', 'cover.jpg', FILE);
  const messages: MpOutboundMessage[] = [
    { type: 'text', content: '您好，公众号客服已收到' },
    { type: 'image', mediaId: upload('image', 'photo.png', FILE) },
    { type: 'voice', mediaId: upload('voice', 'note.mp3', FILE) },
    { type: 'video', mediaId: upload('video', 'clip.mp4', FILE), thumbMediaId: thumb, title: '视频' },
    { type: 'music', title: '歌', musicUrl: 'https://example.com/song.mp3', thumbMediaId: thumb },
    { type: 'news', articles: [{ title: '活动', url: 'https://example.com/news' }] },
    { type: 'mpnews', mediaId: 'e2e-permanent-article' },
    { type: 'mpnewsarticle', articleId: 'e2e-article' },
    { type: 'msgmenu', headContent: '请评价', list: [{ id: '101', content: '满意' }] },
    { type: 'wxcard', cardId: 'e2e-card' },
    { type: 'miniprogrampage', appId: 'wx0000000000000001', pagePath: 'pages/index', thumbMediaId: thumb },
  ];
  let next = 0;
  const reply = (openid: string, requestId: string, message: MpOutboundMessage): MpOutboundRequest => ({
    schema: OUTBOUND_SCHEMA,
    requestId,
    app: 'default',
    channel: 'mp',
    openid,
    message,
  });
  return followers.flatMap((openid) => [
    reply(openid, `e2e-${openid}-typing`, { type: 'typing' }),
    ...Array.from({ length: MP_REPLIES_PER_FOLLOWER }, (_, n) =>
      reply(openid, `e2e-${openid}-${n}`, messages[next++ % messages.length] as MpOutboundMessage),
    ),
  ]);
}
