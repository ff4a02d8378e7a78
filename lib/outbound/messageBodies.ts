import type { KfOutboundMessage, MpOutboundMessage } from '../contracts/outbound';

/**
 * Messages as the platforms take them. The sender has replaced every file given as a URL or S3 object by its
 * media_id before these run.
 */
type KfMenu = Extract<KfOutboundMessage, { type: 'msgmenu' }>;
export type KfSendable = Exclude<KfOutboundMessage, { type: 'event_reply' }>;
export type MpSendable = Exclude<MpOutboundMessage, { type: 'typing' }>;

export function kfMenuBody(menu: KfMenu) {
  return {
    head_content: menu.headContent,
    list: menu.list.map((item) =>
      item.type === 'text'
        ? { type: 'text', text: { content: item.text.content, no_newline: item.text.noNewline } }
        : item,
    ),
    tail_content: menu.tailContent,
  };
}

/** The kf/send_msg body of a message, in WeCom's field names. */
export function kfSendBody(message: KfSendable): Record<string, unknown> {
  switch (message.type) {
    case 'text':
      return { msgtype: 'text', text: { content: message.content } };
    case 'image':
    case 'voice':
    case 'video':
    case 'file':
      return { msgtype: message.type, [message.type]: { media_id: message.mediaId } };
    case 'link':
      return {
        msgtype: 'link',
        link: {
          title: message.title,
          desc: message.description,
          url: message.url,
          thumb_media_id: message.thumbMediaId,
        },
      };
    case 'miniprogram':
      return {
        msgtype: 'miniprogram',
        miniprogram: {
          appid: message.appId,
          title: message.title,
          thumb_media_id: message.thumbMediaId,
          pagepath: message.pagePath,
        },
      };
    case 'msgmenu':
      return { msgtype: 'msgmenu', msgmenu: kfMenuBody(message) };
    case 'location':
      return {
        msgtype: 'location',
        location: {
          name: message.name,
          address: message.address,
          latitude: message.latitude,
          longitude: message.longitude,
        },
      };
    case 'ca_link':
      return { msgtype: 'ca_link', ca_link: { link_url: message.linkUrl } };
  }
}

/** The message/custom/send body of an Official Account message, in MP's field names. */
export function mpSendBody(message: MpSendable): Record<string, unknown> {
  switch (message.type) {
    case 'text':
      return { msgtype: 'text', text: { content: message.content } };
    case 'image':
    case 'voice':
      return { msgtype: message.type, [message.type]: { media_id: message.mediaId } };
    case 'video':
      return {
        msgtype: 'video',
        video: {
          media_id: message.mediaId,
          thumb_media_id: message.thumbMediaId,
          title: message.title,
          description: message.description,
        },
      };
    case 'music':
      return {
        msgtype: 'music',
        music: {
          title: message.title,
          description: message.description,
          musicurl: message.musicUrl,
          hqmusicurl: message.hqMusicUrl ?? message.musicUrl,
          thumb_media_id: message.thumbMediaId,
        },
      };
    case 'news':
      return {
        msgtype: 'news',
        news: {
          articles: message.articles.map((article) => ({
            title: article.title,
            description: article.description,
            url: article.url,
            picurl: article.picUrl,
          })),
        },
      };
    case 'mpnews':
      return { msgtype: 'mpnews', mpnews: { media_id: message.mediaId } };
    case 'mpnewsarticle':
      return { msgtype: 'mpnewsarticle', mpnewsarticle: { article_id: message.articleId } };
    case 'msgmenu':
      return {
        msgtype: 'msgmenu',
        msgmenu: { head_content: message.headContent, list: message.list, tail_content: message.tailContent },
      };
    case 'wxcard':
      return { msgtype: 'wxcard', wxcard: { card_id: message.cardId } };
    case 'miniprogrampage':
      return {
        msgtype: 'miniprogrampage',
        miniprogrampage: {
          title: message.title,
          appid: message.appId,
          pagepath: message.pagePath,
          thumb_media_id: message.thumbMediaId,
        },
      };
  }
}
