import { WxError } from './core';
import * as mpCs from './mp/customerService';
import type { MpApp } from './mp/world';
import { type Body, objectBody } from './params';
import type { Simulator } from './simulator';
import * as accounts from './wecom/accounts';
import * as messages from './wecom/messages';
import * as statistics from './wecom/statistics';

export interface PlatformRequest {
  readonly method: string;
  readonly query: URLSearchParams;
  readonly raw: Buffer;
  readonly contentType?: string;
  /** The JSON body; a malformed one is refused with 47001 when a handler reads it. */
  json(): Body;
}

/** A binary answer (media/get); anything else is the JSON object to send with errcode 0. */
export interface BinaryAnswer {
  readonly binary: { data: Buffer; contentType: string; filename: string };
}

type Answer = Record<string, unknown> | BinaryAnswer;
type Faulted = Parameters<typeof messages.syncMsg>[4];

type WecomHandler = (sim: Simulator, corpId: string, request: PlatformRequest, faults: Faulted) => Answer;
type MpHandler = (sim: Simulator, app: MpApp, request: PlatformRequest) => Answer;

/** WeCom business APIs, by path under /cgi-bin/; each needs an access_token of the corp. */
export const WECOM: Record<string, WecomHandler> = {
  'kf/account/add': (sim, corp, r) => accounts.addAccount(sim.wecom, corp, r.json()),
  'kf/account/del': (sim, corp, r) => accounts.deleteAccount(sim.wecom, corp, r.json()),
  'kf/account/update': (sim, corp, r) => accounts.updateAccount(sim.wecom, corp, r.json()),
  'kf/account/list': (sim, corp, r) =>
    accounts.listAccounts(sim.wecom, corp, r.method === 'GET' && r.raw.length === 0 ? {} : r.json()),
  'kf/add_contact_way': (sim, corp, r) => accounts.addContactWay(sim.wecom, corp, r.json()),
  'kf/get_corp_qualification': () => ({ wechat_channels_binding: true }),
  'kf/servicer/add': (sim, corp, r) => accounts.changeServicers(sim.wecom, corp, r.json(), 'add'),
  'kf/servicer/del': (sim, corp, r) => accounts.changeServicers(sim.wecom, corp, r.json(), 'del'),
  'kf/servicer/list': (sim, corp, r) => accounts.listServicers(sim.wecom, corp, r.query),
  'kf/service_state/get': (sim, corp, r) => accounts.getServiceState(sim.wecom, corp, r.json()),
  'kf/service_state/trans': (sim, corp, r) => accounts.transServiceState(sim.wecom, corp, r.json()),
  'kf/customer/batchget': (sim, corp, r) => accounts.batchGetCustomers(sim.wecom, corp, r.json()),
  'kf/customer/get_upgrade_service_config': (sim, corp) => accounts.upgradeServiceConfig(sim.wecom, corp),
  'kf/sync_msg': (sim, corp, r, faults) => messages.syncMsg(sim.wecom, sim.throttle, corp, r.json(), faults),
  'kf/send_msg': (sim, corp, r, faults) => messages.sendMsg(sim.wecom, sim.callbacks, corp, r.json(), faults),
  'kf/send_msg_on_event': (sim, corp, r) => messages.sendMsgOnEvent(sim.wecom, corp, r.json()),
  'kf/get_corp_statistic': (sim, corp, r) => statistics.corpStatistic(sim.wecom, corp, r.json()),
  'kf/get_servicer_statistic': (sim, corp, r) => statistics.servicerStatistic(sim.wecom, corp, r.json()),
  'media/upload': (sim, corp, r) => sim.media.upload(corp, r.query.get('type'), r.raw, r.contentType),
  'media/get': (sim, corp, r) => mediaAnswer(sim, corp, r),
};

/** Customer-service APIs answer 65400 until the account has switched the new customer service on. */
const customService =
  (handler: MpHandler): MpHandler =>
  (sim, app, request) => {
    if (!app.customServiceEnabled) throw new WxError(65400, 'please enable new custom service');
    return handler(sim, app, request);
  };

/** Official Account APIs by path (some under /cgi-bin/, some not, as MP has them). */
export const MP: Record<string, MpHandler> = {
  '/cgi-bin/message/custom/send': (sim, app, r) => sim.mp.send(app, r.json()),
  '/cgi-bin/message/custom/typing': (sim, app, r) => sim.mp.typing(app, r.json()),
  '/customservice/kfaccount/add': customService((_, app, r) => mpCs.addKfAccount(app, r.json())),
  '/customservice/kfaccount/update': customService((_, app, r) => mpCs.updateKfAccount(app, r.json())),
  '/customservice/kfaccount/del': customService((_, app, r) =>
    mpCs.deleteKfAccount(app, r.method === 'GET' ? r.query.get('kf_account') : r.json().kf_account),
  ),
  '/customservice/kfaccount/inviteworker': customService((sim, app, r) =>
    mpCs.inviteWorker(sim.mp, app, r.json()),
  ),
  '/customservice/kfaccount/uploadheadimg': customService((_, app, r) =>
    mpCs.uploadHeadImg(app, r.query.get('kf_account'), r.raw, r.contentType),
  ),
  '/cgi-bin/customservice/getkflist': customService((sim, app) => mpCs.listKfAccounts(sim.mp, app)),
  '/cgi-bin/customservice/getonlinekflist': customService((_, app) => mpCs.listOnlineKfAccounts(app)),
  '/customservice/kfsession/create': customService((sim, app, r) =>
    mpCs.createSession(sim.mp, app, r.json()),
  ),
  '/customservice/kfsession/close': customService((_, app, r) => mpCs.closeSession(app, r.json())),
  '/customservice/kfsession/getsession': customService((_, app, r) =>
    mpCs.getSession(app, r.query.get('openid')),
  ),
  '/customservice/kfsession/getsessionlist': customService((_, app, r) =>
    mpCs.listSessions(app, r.query.get('kf_account')),
  ),
  '/customservice/kfsession/getwaitcase': customService((_, app) => mpCs.waitCase(app)),
  '/customservice/msgrecord/getmsglist': customService((_, app, r) => mpCs.getMsgList(app, r.json())),
  '/cgi-bin/media/upload': (sim, app, r) =>
    sim.media.upload(app.appId, r.query.get('type'), r.raw, r.contentType, 'mp'),
  '/cgi-bin/media/get': (sim, app, r) => mediaAnswer(sim, app.appId, r),
};

function mediaAnswer(sim: Simulator, owner: string, request: PlatformRequest): BinaryAnswer {
  const media = sim.media.get(owner, request.query.get('media_id'));
  return {
    binary: {
      data: media.data,
      contentType: media.contentType,
      filename: `${media.mediaId}.${media.filename.split('.').pop()}`,
    },
  };
}

/** Token endpoints need no access_token. */
export const TOKENS: Record<string, (sim: Simulator, request: PlatformRequest) => Answer> = {
  '/cgi-bin/gettoken': (sim, r) => sim.wecom.getToken(r.query.get('corpid'), r.query.get('corpsecret')),
  '/cgi-bin/token': (sim, r) =>
    sim.mp.getToken(r.query.get('grant_type'), r.query.get('appid'), r.query.get('secret')),
  '/cgi-bin/stable_token': (sim, r) => sim.mp.getStableToken(objectBody(r.json())),
};
