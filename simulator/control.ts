import type { FaultRule } from './faults';
import type { LimitSettings } from './limits';
import type { Simulator } from './simulator';
import { kfConversation, mpConversation, platformSawMsgid, simulatorTrace } from './trace';

/** A readable picture of the simulator for the web page and `GET /_sim/state`. */
export function snapshot(sim: Simulator) {
  const now = sim.clock.now();
  const accounts = [...sim.wecom.accounts.values()].map((account) => ({
    openKfId: account.openKfId,
    corpId: account.corpId,
    name: account.name,
    // Through world.session, so a session past its 48 h shows as over.
    customers: [...account.sessions.keys()].map((customer) => {
      const session = sim.wecom.session(account, customer);
      return {
        externalUserId: session.externalUserId,
        state: session.state,
        servicerUserId: session.servicerUserId,
        repliesLeft: session.repliesLeft,
        windowEndsAt:
          session.lastCustomerMessageAt === undefined
            ? null
            : session.lastCustomerMessageAt + REPLY_WINDOW_MS,
        conversation: kfConversation(sim, account.openKfId, session.externalUserId),
      };
    }),
  }));
  const mpApps = [...sim.mp.apps.values()].map((app) => ({
    appId: app.appId,
    originalId: app.originalId,
    mode: app.mode,
    callbackUrl: app.callbackUrl ?? null,
    users: [...app.users].map(([openid, user]) => ({
      openid,
      repliesLeft: user.repliesLeft,
      lastMessageAt: user.lastMessageAt || null,
      windowEndsAt: user.lastMessageAt ? user.lastMessageAt + REPLY_WINDOW_MS : null,
      conversation: mpConversation(sim, app.appId, openid),
    })),
    sent: sim.mp.sent.filter((sent) => sent.appId === app.appId).length,
  }));
  const refused = sim.callbacks.deliveries.filter(
    (delivery) => !delivery.delivered && delivery.attempts.some((attempt) => attempt.status !== undefined),
  );
  const lastRefusal = refused.at(-1)?.attempts.at(-1);
  return {
    now,
    clockOffsetMs: now - Date.now(),
    corps: [...sim.wecom.corps.values()].map((corp) => ({
      corpId: corp.corpId,
      callbackUrl: corp.callback?.url ?? null,
      users: [...corp.users],
    })),
    accounts,
    mpApps,
    faults: sim.faults.list(),
    limits: sim.limits.settings,
    callbacks: {
      total: sim.callbacks.deliveries.length,
      delivered: sim.callbacks.deliveries.filter((d) => d.delivered).length,
      lost: sim.callbacks.deliveries.filter((d) => d.attempts.length === 0).length,
      refused: refused.length,
      lastRefusal: lastRefusal
        ? `HTTP ${lastRefusal.status}${lastRefusal.answer ? ` ${lastRefusal.answer}` : ''}`
        : null,
    },
    traced: sim.traceSource !== undefined,
  };
}

/** The 48 h after a customer's last message in which replies are allowed, on both platforms. */
const REPLY_WINDOW_MS = 48 * 3600_000;

/** A conversation item's whole path: the simulator's side, then the product's. */
async function traceOf(sim: Simulator, id: string) {
  const own = simulatorTrace(sim, id);
  if (!own) throw new ControlError(`no message ${id}`);
  if (!own.subject) return { id, steps: own.steps };
  if (!sim.traceSource)
    return {
      id,
      steps: [
        ...own.steps,
        {
          step: 'product',
          outcome: 'unknown',
          detail: "the product's side is not connected (npm start connects it)",
        },
      ],
    };
  try {
    return { id, steps: [...own.steps, ...(await sim.traceSource.steps(own.subject))] };
  } catch (error) {
    return {
      id,
      steps: [
        ...own.steps,
        {
          step: 'product',
          outcome: 'unknown',
          detail: `the product's state could not be read: ${(error as Error).message}`,
        },
      ],
    };
  }
}

/** Replies the product settled without the platform receiving them (the platform's own refusals are traced). */
async function unsent(sim: Simulator) {
  if (!sim.traceSource) return { connected: false, replies: [] };
  const replies = await sim.traceSource.unsent();
  return {
    connected: true,
    replies: replies.filter((reply) => !reply.msgid || !platformSawMsgid(sim, reply.msgid)),
  };
}

type Json = Record<string, unknown>;
const str = (body: Json, field: string) => {
  const value = body[field];
  if (typeof value !== 'string' || value === '') throw new ControlError(`${field} is required`);
  return value;
};

export class ControlError extends Error {}

/** The HTTP control API: the same operations as the in-process one, as JSON. */
export function control(
  sim: Simulator,
  method: string,
  path: string,
  query: URLSearchParams,
  body: Json,
): unknown {
  const route = `${method} ${path}`;
  switch (route) {
    case 'POST /_sim/reset':
      sim.reset();
      return { ok: true };
    case 'GET /_sim/state':
      return snapshot(sim);
    case 'POST /_sim/wecom/corps': {
      const corp = sim.createCorp({
        corpId: str(body, 'corpId'),
        secrets: (body.secrets as string[]) ?? [],
        ...(body.callback
          ? { callback: body.callback as { url: string; token: string; encodingAesKey: string } }
          : {}),
        users: (body.users as string[]) ?? [],
        departments: (body.departments as number[]) ?? [],
      });
      return { corpId: corp.corpId };
    }
    case 'POST /_sim/wecom/kf-accounts':
      return {
        open_kfid: sim.createKfAccount(str(body, 'corpId'), str(body, 'name'), {
          managedByApi: body.managedByApi !== false,
        }),
      };
    case 'POST /_sim/wecom/customer-messages':
      return {
        msgid: sim.customerWrites(
          str(body, 'openKfId'),
          str(body, 'externalUserId'),
          (body.message as Json) ?? {},
        ),
      };
    case 'POST /_sim/wecom/enter-session': {
      const welcomeCode =
        typeof body.url === 'string'
          ? sim.openContactWay(body.url, str(body, 'externalUserId'))
          : sim.enterSession(
              str(body, 'openKfId'),
              str(body, 'externalUserId'),
              body.scene as string,
              body.sceneParam as string,
            );
      return { welcome_code: welcomeCode ?? null };
    }
    case 'POST /_sim/wecom/servicer-messages':
      return {
        msgid: sim.servicerWrites(
          str(body, 'openKfId'),
          str(body, 'externalUserId'),
          str(body, 'servicerUserId'),
          (body.message as Json) ?? {},
        ),
      };
    case 'POST /_sim/wecom/session-changes': {
      const change = str(body, 'change');
      if (change !== 'take' && change !== 'transfer' && change !== 'end')
        throw new ControlError('change must be take, transfer or end');
      return {
        msg_code:
          sim.servicerChangesSession(
            str(body, 'openKfId'),
            str(body, 'externalUserId'),
            change,
            body.servicerUserId as string,
          ) ?? null,
      };
    }
    case 'POST /_sim/wecom/events':
      sim.pushEvent(str(body, 'openKfId'), (body.event as Json) ?? {});
      return { ok: true };
    case 'GET /_sim/wecom/sent': {
      const openKfId = query.get('open_kfid');
      return { sent: sim.wecom.sent.filter((sent) => !openKfId || sent.openKfId === openKfId) };
    }
    case 'POST /_sim/tokens':
      return {
        invalidated: sim.invalidateTokens(
          body.how === 'revoke' ? 'revoke' : 'expire',
          body.owner as string | undefined,
        ),
      };
    case 'POST /_sim/mp/apps':
      return { originalId: sim.createMpApp(body as never).originalId };
    case 'POST /_sim/mp/user-messages':
      return {
        msgid: sim.mpUserWrites(
          str(body, 'appId'),
          str(body, 'openid'),
          (body.message as Record<string, string>) ?? {},
        ),
      };
    case 'POST /_sim/mp/kf-workers':
      sim.setMpKfWorker(
        str(body, 'appId'),
        str(body, 'kfAccount'),
        body as { online?: boolean; acceptInvite?: boolean },
      );
      return { ok: true };
    case 'GET /_sim/mp/sent':
      return { sent: sim.mp.sent, typing: sim.mp.typings };
    case 'GET /_sim/faults':
      return { rules: sim.faults.list(), fired: sim.faults.log.length };
    case 'PUT /_sim/faults':
      sim.setFaults((body.rules as FaultRule[]) ?? [], body.seed as number | undefined);
      return { rules: sim.faults.list() };
    case 'DELETE /_sim/faults':
      sim.setFaults([]);
      return { rules: [] };
    case 'POST /_sim/clock': {
      const ms =
        Number(body.advanceMs ?? 0) +
        Number(body.advanceSeconds ?? 0) * 1000 +
        Number(body.advanceHours ?? 0) * 3600_000;
      sim.advanceClock(ms);
      return { now: sim.clock.now() };
    }
    case 'GET /_sim/limits':
      return sim.limits.settings;
    case 'PUT /_sim/limits': {
      const settings = body as Partial<LimitSettings>;
      Object.assign(sim.limits.settings.rate, settings.rate ?? {});
      Object.assign(sim.limits.settings.concurrency, settings.concurrency ?? {});
      sim.changed();
      return sim.limits.settings;
    }
    case 'GET /_sim/callbacks':
      return { deliveries: sim.callbacks.deliveries };
    case 'GET /_sim/calls':
      return { calls: sim.callLog.calls };
    case 'GET /_sim/trace':
      return traceOf(sim, query.get('id') ?? '');
    case 'GET /_sim/unsent':
      return unsent(sim);
    default:
      throw new ControlError(`no control route ${route}`);
  }
}
