import { EventEmitter } from 'node:events';
import { ERRCODES } from '../lib/platform/errcodes';
import { CallbackPusher, type CallbackSettings } from './callbacks';
import { CallLog } from './callLog';
import { SeededRandom, SimClock, WxError } from './core';
import { FaultInjector, type FaultRule } from './faults';
import { Limits } from './limits';
import { MediaStore } from './media';
import { type MpApp, MpWorld } from './mp/world';
import type { TraceSource } from './trace';
import { resolveContactWay } from './wecom/accounts';
import { StatisticsHistory } from './wecom/history';
import {
  customerRates,
  customerWrites,
  enterSession,
  pushEvent,
  servicerChangesSession,
  servicerWrites,
  TokenlessThrottle,
} from './wecom/messages';
import { WecomWorld } from './wecom/world';

export interface SimulatorOptions {
  seed?: number;
  callbacks?: Partial<CallbackSettings>;
  /** Days before the start with made-up kf statistics, for reports (default 30; 0 for none). */
  statisticsHistoryDays?: number;
  /** The product's side of the page's traces; without it the page traces the simulator's side only. */
  traceSource?: TraceSource;
}

/** A customer's message, as the Official Account received it from the follower. */
export interface MpReceived {
  readonly appId: string;
  readonly openid: string;
  /** MsgId; events have none. */
  readonly msgid?: string;
  readonly text: string;
  readonly at: number;
}

/** A one-pixel PNG: the avatar media of accounts created through the control API. */
const AVATAR = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

/**
 * The WeCom kf and Official Account servers in one process: every rule of the reference, a clock tests can
 * move, seeded faults and switchable limits. This is the typed in-process API; the HTTP control API and the
 * web page call the same methods.
 */
export class Simulator extends EventEmitter {
  readonly clock = new SimClock();
  private random: SeededRandom;
  readonly faults: FaultInjector;
  readonly limits = new Limits();
  readonly media: MediaStore;
  readonly wecom: WecomWorld;
  readonly mp: MpWorld;
  readonly callbacks: CallbackPusher;
  readonly throttle = new TokenlessThrottle();
  /** Calls received per endpoint (`gettoken`, `kf/sync_msg`, …), for tests and benchmarks. */
  readonly calls = new Map<string, number>();
  /** The calls themselves and what they were answered, for the page's traces. */
  readonly callLog = new CallLog();
  readonly traceSource: TraceSource | undefined;
  /** What followers wrote to the Official Accounts, for the page. */
  readonly mpReceived: MpReceived[] = [];

  constructor(options: SimulatorOptions = {}) {
    super();
    this.random = new SeededRandom(options.seed ?? 1);
    this.traceSource = options.traceSource;
    this.faults = new FaultInjector(() => this.random);
    this.media = new MediaStore(this.clock);
    this.wecom = new WecomWorld(
      this.clock,
      this.media,
      new StatisticsHistory(options.seed ?? 1, this.clock.now(), options.statisticsHistoryDays ?? 30),
    );
    this.mp = new MpWorld(this.clock, this.media);
    this.callbacks = new CallbackPusher(
      { timeoutMs: 5000, retryDelayMs: 5000, retries: 3, ...options.callbacks },
      this.faults,
      () => this.clock.now(),
    );
  }

  /** Tells the web page (and anyone listening) that something changed. */
  changed(): void {
    this.emit('change');
  }

  private mutate<T>(action: () => T): T {
    const result = action();
    this.changed();
    return result;
  }

  setFaults(rules: FaultRule[], seed?: number): void {
    if (seed !== undefined) this.random = new SeededRandom(seed);
    this.mutate(() => this.faults.set(rules));
  }

  createCorp(options: {
    corpId: string;
    secrets: string[];
    callback?: { url: string; token: string; encodingAesKey: string };
    users?: string[];
    departments?: number[];
  }) {
    return this.mutate(() => {
      const corp = this.wecom.addCorp(options.corpId, options.secrets);
      if (options.callback) corp.callback = options.callback;
      for (const user of options.users ?? []) corp.users.add(user);
      for (const department of options.departments ?? []) corp.departments.add(department);
      return corp;
    });
  }

  /**
   * A kf account made in the admin console, with the members (of the corp) who serve it; `managedByApi: false`
   * keeps it away from the API.
   */
  createKfAccount(
    corpId: string,
    name: string,
    options: { managedByApi?: boolean; servicers?: string[] } = {},
  ): string {
    return this.mutate(() => {
      const corp = this.wecom.corp(corpId);
      const stranger = options.servicers?.find((userid) => !corp.users.has(userid));
      if (stranger) throw new WxError(ERRCODES.WECOM_USER_NOT_FOUND.code, `invalid userid ${stranger}`);
      const avatar = this.uploadMedia(corpId, 'image', 'avatar.png', AVATAR);
      const account = this.wecom.createAccount(corpId, name, avatar, options.managedByApi ?? true);
      for (const userid of options.servicers ?? []) account.servicers.set(userid, { status: 0, stopType: 0 });
      return account.openKfId;
    });
  }

  /** Stores a file as `media/upload` would, with the same rules; returns its media_id. */
  uploadMedia(
    owner: string,
    type: 'image' | 'voice' | 'video' | 'file' | 'thumb',
    filename: string,
    data: Buffer,
  ): string {
    const answer = this.media.upload(
      owner,
      type,
      multipart(data, filename),
      `multipart/form-data; boundary=${BOUNDARY}`,
      this.mp.apps.has(owner) ? 'mp' : 'wecom',
    );
    return 'thumb_media_id' in answer ? answer.thumb_media_id : answer.media_id;
  }

  customerWrites(openKfId: string, externalUserId: string, message: Record<string, unknown>): string {
    return this.mutate(() =>
      this.pushesAbout(() => customerWrites(this.wecom, this.callbacks, openKfId, externalUserId, message)),
    );
  }

  /** Marks the pushes an action made with the message it returned, so a message's trace finds its pushes. */
  private pushesAbout(action: () => string): string {
    const before = this.callbacks.deliveries.length;
    const msgid = action();
    if (msgid) for (const delivery of this.callbacks.deliveries.slice(before)) delivery.about = msgid;
    return msgid;
  }

  /** Shorthand for a text message. */
  customerSays(openKfId: string, externalUserId: string, content: string): string {
    return this.customerWrites(openKfId, externalUserId, { msgtype: 'text', text: { content } });
  }

  enterSession(
    openKfId: string,
    externalUserId: string,
    scene?: string,
    sceneParam?: string,
  ): string | undefined {
    return this.mutate(() =>
      enterSession(this.wecom, this.callbacks, openKfId, externalUserId, scene, sceneParam),
    );
  }

  /** A customer opens a contact-way URL (with `&scene_param=` if the company appended one). */
  openContactWay(url: string, externalUserId: string): string | undefined {
    const way = resolveContactWay(this.wecom, url);
    return this.enterSession(way.openKfId, externalUserId, way.scene, way.sceneParam);
  }

  servicerWrites(
    openKfId: string,
    externalUserId: string,
    servicerUserId: string,
    message: Record<string, unknown>,
  ): string {
    return this.mutate(() =>
      servicerWrites(this.wecom, this.callbacks, openKfId, externalUserId, servicerUserId, message),
    );
  }

  customerRates(
    openKfId: string,
    externalUserId: string,
    rating: 'satisfied' | 'middling' | 'dissatisfied',
  ): void {
    this.mutate(() => customerRates(this.wecom, openKfId, externalUserId, rating));
  }

  servicerChangesSession(
    openKfId: string,
    externalUserId: string,
    change: 'take' | 'transfer' | 'end',
    servicerUserId?: string,
  ) {
    return this.mutate(() =>
      servicerChangesSession(this.wecom, this.callbacks, openKfId, externalUserId, change, servicerUserId),
    );
  }

  pushEvent(openKfId: string, event: Record<string, unknown>): void {
    this.mutate(() => pushEvent(this.wecom, this.callbacks, openKfId, event));
  }

  createMpApp(options: Parameters<MpWorld['addApp']>[0]): MpApp {
    return this.mutate(() => this.mp.addApp(options));
  }

  mpUserWrites(appId: string, openid: string, message: Record<string, string | number>): string {
    return this.mutate(() => {
      const msgid = this.pushesAbout(() => this.mp.userWrites(this.callbacks, appId, openid, message));
      this.mpReceived.push({
        appId,
        openid,
        ...(msgid && { msgid }),
        text:
          message.MsgType === 'text'
            ? String(message.Content ?? '')
            : `[${String(message.MsgType === 'event' ? message.Event : message.MsgType)}]`,
        at: this.clock.now(),
      });
      return msgid;
    });
  }

  /** The MP kf worker accepted the invitation and is online or offline in the web client. */
  setMpKfWorker(
    appId: string,
    kfAccount: string,
    options: { online?: boolean; acceptInvite?: boolean },
  ): void {
    this.mutate(() => {
      const account = this.mp.apps.get(appId)?.kfAccounts.get(kfAccount);
      if (!account) throw new WxError(65401, 'invalid kf_account');
      if (options.acceptInvite && account.invite) {
        account.kfWx = account.invite.wx;
        account.invite = undefined;
      }
      if (options.online !== undefined) account.online = options.online;
    });
  }

  invalidateTokens(how: 'expire' | 'revoke', owner?: string): number {
    return this.mutate(() => this.wecom.invalidateTokens(how, owner) + this.mp.invalidateTokens(how, owner));
  }

  advanceClock(ms: number): void {
    this.mutate(() => this.clock.advance(ms));
  }

  reset(): void {
    this.mutate(() => {
      this.wecom.reset();
      this.mp.reset();
      this.media.items.clear();
      this.faults.clear();
      this.faults.log.length = 0;
      this.limits.reset();
      this.throttle.reset();
      this.callbacks.deliveries.length = 0;
      this.calls.clear();
      this.callLog.clear();
      this.mpReceived.length = 0;
      this.clock.reset();
    });
  }
}

const BOUNDARY = 'kf-bridge-simulator';
function multipart(data: Buffer, filename: string): Buffer {
  return Buffer.concat([
    Buffer.from(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="media"; filename="${filename}"\r\n\r\n`,
    ),
    data,
    Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
  ]);
}
