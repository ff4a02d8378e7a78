/** The WeCom kf world the simulator keeps in memory. Times are simulator-clock milliseconds. */

export interface Corp {
  readonly corpId: string;
  /** App secrets allowed to call the kf API (each gets its own token). */
  readonly secrets: Set<string>;
  callback?: { url: string; token: string; encodingAesKey: string };
  /** Members (userids) who may become servicers, and departments. */
  readonly users: Set<string>;
  readonly departments: Set<number>;
}

export interface AccessToken {
  readonly token: string;
  readonly corpId: string;
  readonly secret: string;
  expiresAt: number;
  revoked: boolean;
}

export type ServiceState = 0 | 1 | 2 | 3 | 4;

export interface Session {
  readonly externalUserId: string;
  state: ServiceState;
  servicerUserId?: string;
  lastCustomerMessageAt?: number;
  /** Replies still allowed since the customer's last message (5 per customer message). */
  repliesLeft: number;
  lastWelcomeAt?: number;
  /** When the current session began: the customer writing in state 4, or a servicer taking an ended session back. */
  startedAt?: number;
}

export interface StreamItem {
  readonly seq: number;
  readonly at: number;
  /** The message as `kf/sync_msg` returns it. */
  readonly message: Record<string, unknown>;
}

export interface KfAccount {
  readonly openKfId: string;
  readonly corpId: string;
  name: string;
  mediaId: string;
  /** Handed to API management in the admin console; API-created accounts always are (reference §8.1). */
  managedByApi: boolean;
  readonly servicers: Map<string, { status: 0 | 1; stopType: 0 | 1 }>;
  readonly departments: Set<number>;
  readonly stream: StreamItem[];
  nextSeq: number;
  readonly usedMsgIds: Set<string>;
  readonly sessions: Map<string, Session>;
}

export interface Customer {
  readonly externalUserId: string;
  nickname: string;
  avatar: string;
  gender: 0 | 1 | 2;
  unionid: string;
  /** Last time the customer entered a session or wrote, per kf account. */
  readonly lastActiveAt: Map<string, number>;
  enterSessionContext?: { scene: string; scene_param: string };
}

export type CodeKind = 'welcome' | 'pool' | 'assign' | 'end';

export interface EventCode {
  readonly code: string;
  readonly openKfId: string;
  readonly externalUserId: string;
  readonly kind: CodeKind;
  /** The session state the code was issued in; except for welcome codes the state must still be this. */
  readonly state: ServiceState;
  readonly expiresAt: number;
  used: boolean;
}

export interface SentMessage {
  readonly corpId: string;
  readonly openKfId: string;
  readonly touser: string;
  readonly msgid: string;
  readonly msgtype: string;
  readonly body: Record<string, unknown>;
  readonly via: 'send_msg' | 'send_msg_on_event';
  readonly at: number;
}

export interface Media {
  readonly mediaId: string;
  readonly owner: string;
  readonly type: string;
  readonly filename: string;
  readonly contentType: string;
  readonly data: Buffer;
  readonly createdAt: number;
}

/** What happened, for statistics: computed from this log, never stored as counters. */
export type Activity =
  | {
      kind: 'customer_message';
      at: number;
      openKfId: string;
      externalUserId: string;
      servicerUserId?: string;
    }
  | {
      kind: 'session_assigned';
      at: number;
      openKfId: string;
      externalUserId: string;
      to: 'ai' | 'servicer';
      servicerUserId?: string;
    }
  | {
      kind: 'servicer_reply';
      at: number;
      openKfId: string;
      externalUserId: string;
      servicerUserId: string;
      replyDelaySec?: number;
    }
  | { kind: 'ai_transfer'; at: number; openKfId: string; externalUserId: string }
  /** A servicer ended the session, so WeCom asked the customer to rate it. */
  | {
      kind: 'satisfaction_survey';
      at: number;
      openKfId: string;
      externalUserId: string;
      servicerUserId: string;
    }
  | {
      kind: 'satisfaction_rating';
      at: number;
      openKfId: string;
      externalUserId: string;
      servicerUserId: string;
      rating: 'satisfied' | 'middling' | 'dissatisfied';
    }
  | { kind: 'rejected'; at: number; openKfId: string; externalUserId: string };
