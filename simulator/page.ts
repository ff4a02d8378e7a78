/**
 * The simulator's web view: live conversations per kf account and per Official Account follower, boxes to write
 * as either, session state, 48 h window and reply quota per customer, a trace per message (click it), replies the
 * product did not send, pushes the product refused, clock and fault switches. One self-contained page; it reads
 * /_sim/state and refreshes on each server-sent `change` event.
 */
export const PAGE = `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>kf-bridge · WeCom and Official Account simulator</title>
<style>
  :root { font-family: system-ui, "PingFang SC", "Noto Sans CJK SC", sans-serif; color: #1f2328; background: #f3f4f6; }
  body { margin: 0; }
  header { background: #07c160; color: #fff; padding: 12px 20px; display: flex; gap: 16px; align-items: center; flex-wrap: wrap; }
  header h1 { font-size: 18px; margin: 0 16px 0 0; }
  header button { background: #fff2; color: #fff; border: 1px solid #fff8; border-radius: 4px; padding: 4px 10px; cursor: pointer; }
  main { display: grid; grid-template-columns: 320px 1fr; gap: 16px; padding: 16px 20px; }
  section { background: #fff; border-radius: 8px; padding: 12px 16px; box-shadow: 0 1px 2px #0001; }
  h2 { font-size: 15px; margin: 4px 0 10px; }
  label { display: block; font-size: 13px; margin: 8px 0 2px; color: #57606a; }
  input, select, textarea { width: 100%; box-sizing: border-box; padding: 6px 8px; border: 1px solid #d0d7de; border-radius: 4px; font: inherit; }
  #write-send, #mp-send { margin-top: 10px; width: 100%; padding: 8px; background: #07c160; color: #fff; border: 0; border-radius: 4px; font-weight: 600; cursor: pointer; }
  .fault { display: flex; gap: 6px; align-items: center; font-size: 13px; margin: 4px 0; }
  .fault input { width: auto; }
  .account { margin-bottom: 16px; }
  .account h3 { font-size: 14px; margin: 0 0 8px; }
  .account h3 code { color: #57606a; font-weight: normal; }
  .customer { border: 1px solid #d0d7de; border-radius: 6px; margin: 8px 0; }
  .customer-head { display: flex; gap: 10px; align-items: center; padding: 6px 10px; background: #f6f8fa; font-size: 13px; flex-wrap: wrap; }
  .state { padding: 1px 8px; border-radius: 10px; background: #ddf4ff; }
  .state-3 { background: #fff8c5; } .state-4 { background: #eaeef2; } .state-2 { background: #ffebe9; }
  .conversation { padding: 8px 10px; display: flex; flex-direction: column; gap: 4px; max-height: 480px; overflow: auto; }
  .message { max-width: 70%; padding: 5px 9px; border-radius: 6px; font-size: 14px; white-space: pre-wrap; word-break: break-word; }
  .from-customer { align-self: flex-start; background: #fff; border: 1px solid #d0d7de; }
  .from-api { align-self: flex-end; background: #95ec69; }
  .from-servicer { align-self: flex-end; background: #cfe8ff; }
  .from-event { align-self: center; background: none; color: #57606a; font-size: 12px; }
  .from-refused, .from-unsent { align-self: flex-end; background: #ffebe9; border: 1px solid #ff8182; }
  .message { cursor: pointer; }
  .message .why { display: block; font-size: 12px; color: #a40e26; margin-top: 3px; }
  .trace { align-self: stretch; margin: 2px 0 6px; padding: 6px 10px 6px 28px; background: #f6f8fa; border-radius: 6px; font-size: 12px; list-style: decimal; }
  .trace li { margin: 2px 0; }
  .step-name { font-weight: 600; }
  .step-ok .step-name { color: #1a7f37; } .step-refused .step-name { color: #cf222e; }
  .step-waiting .step-name { color: #9a6700; } .step-unknown .step-name { color: #57606a; }
  .step-at { color: #57606a; margin-left: 6px; }
  .follower { border: 1px solid #d0d7de; border-radius: 6px; margin: 8px 0; }
  #push-refusals { background: #cf222e; color: #fff; border-radius: 4px; padding: 2px 8px; font-size: 13px; }
  #push-refusals:empty { display: none; }
  .empty { color: #57606a; font-size: 13px; }
  footer { font-size: 12px; color: #57606a; padding: 0 20px 16px; }
</style>
</head>
<body>
<header>
  <h1>WeCom 微信客服 · 公众号 simulator</h1>
  <span>clock: <strong id="clock">–</strong></span>
  <button data-advance="3600000">+1 h</button>
  <button data-advance="86400000">+24 h</button>
  <button data-advance="172800000">+48 h</button>
  <span id="callbacks"></span>
  <span id="push-refusals"></span>
</header>
<main>
  <div>
    <section>
      <h2>Write as a customer</h2>
      <label for="write-account">kf account</label>
      <select id="write-account"></select>
      <label for="write-customer">customer (external_userid)</label>
      <input id="write-customer" value="wmDemoCustomer01">
      <label for="write-text">message</label>
      <textarea id="write-text" rows="3" placeholder="你好，我想咨询一下订单"></textarea>
      <button id="write-send">Send as customer</button>
      <div id="write-result" class="empty"></div>
    </section>
    <section style="margin-top:16px">
      <h2>Write as an Official Account follower</h2>
      <label for="mp-app">Official Account</label>
      <select id="mp-app"></select>
      <label for="mp-openid">follower (openid)</label>
      <input id="mp-openid" value="oDemoFollower0000000000000001">
      <label for="mp-text">message</label>
      <textarea id="mp-text" rows="3" placeholder="请问门店几点开门？"></textarea>
      <button id="mp-send">Send to the Official Account</button>
      <div id="mp-result" class="empty"></div>
    </section>
    <section style="margin-top:16px">
      <h2>Faults</h2>
      <div id="faults"></div>
      <button id="revoke-tokens" style="margin-top:8px">Revoke access tokens (40014)</button>
    </section>
  </div>
  <div>
    <section>
      <h2>WeCom kf conversations</h2>
      <p class="empty">Click a message to see its path through kf-bridge.</p>
      <div id="accounts"><p class="empty">No kf account yet.</p></div>
    </section>
    <section style="margin-top:16px">
      <h2>Official Account (公众号) followers</h2>
      <div id="mp-apps"><p class="empty">No Official Account yet.</p></div>
    </section>
    <section style="margin-top:16px">
      <h2>Replies kf-bridge did not send</h2>
      <div id="unsent"><p class="empty">None.</p></div>
    </section>
  </div>
</main>
<footer>Control API: <code>/_sim/state</code>, <code>/_sim/faults</code>, <code>/_sim/clock</code> … (see README). Times shown in the simulator's clock.</footer>
<script>
const FAULTS = [
  { id: 'sync-1', label: 'kf/sync_msg errcode -1 (10 %)', rule: { endpoint: 'kf/sync_msg', kind: 'errcode', errcode: -1, probability: 0.1 } },
  { id: 'sync-5xx', label: 'kf/sync_msg HTTP 502 (10 %)', rule: { endpoint: 'kf/sync_msg', kind: 'http', status: 502, probability: 0.1 } },
  { id: 'send-45033', label: 'kf/send_msg errcode 45033 (20 %)', rule: { endpoint: 'kf/send_msg', kind: 'errcode', errcode: 45033, probability: 0.2 } },
  { id: 'cb-lost', label: 'callbacks lost (20 %)', rule: { endpoint: 'callback', kind: 'callback_lost', probability: 0.2 } },
  { id: 'cb-dup', label: 'callbacks duplicated (20 %)', rule: { endpoint: 'callback', kind: 'callback_duplicate', probability: 0.2 } },
  { id: 'slow', label: 'all APIs +2 s latency', rule: { endpoint: '*', kind: 'latency', ms: 2000 } },
];
const STATES = { 0: '0 未处理', 1: '1 智能助手', 2: '2 排队中', 3: '3 人工接待', 4: '4 已结束' };
const $ = (id) => document.getElementById(id);
const esc = (text) => String(text).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
const time = (ms) => new Date(ms).toLocaleString('zh-CN', { hour12: false });
const post = (path, body, method = 'POST') => fetch(path, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.json());

$('faults').innerHTML = FAULTS.map((f) => '<label class="fault"><input type="checkbox" data-fault="' + f.id + '"> ' + esc(f.label) + '</label>').join('');
$('faults').addEventListener('change', () => {
  const rules = FAULTS.filter((f) => document.querySelector('[data-fault="' + f.id + '"]').checked).map((f) => f.rule);
  post('/_sim/faults', { rules }, 'PUT');
});
$('revoke-tokens').addEventListener('click', () => post('/_sim/tokens', { how: 'revoke' }));
document.querySelectorAll('[data-advance]').forEach((b) => b.addEventListener('click', () => post('/_sim/clock', { advanceMs: Number(b.dataset.advance) })));
$('write-send').addEventListener('click', async () => {
  const content = $('write-text').value.trim();
  if (!content) return;
  const answer = await post('/_sim/wecom/customer-messages', {
    openKfId: $('write-account').value,
    externalUserId: $('write-customer').value.trim(),
    message: { msgtype: 'text', text: { content } },
  });
  $('write-result').textContent = answer.error ? 'Error: ' + answer.error : 'sent as ' + answer.msgid;
  if (!answer.error) $('write-text').value = '';
});
$('mp-send').addEventListener('click', async () => {
  const content = $('mp-text').value.trim();
  if (!content) return;
  const answer = await post('/_sim/mp/user-messages', {
    appId: $('mp-app').value,
    openid: $('mp-openid').value.trim(),
    message: { MsgType: 'text', Content: content },
  });
  $('mp-result').textContent = answer.error ? 'Error: ' + answer.error : 'sent as MsgId ' + answer.msgid;
  if (!answer.error) $('mp-text').value = '';
});

// Traces: the ids whose trace is open, and the last steps fetched for each.
const expanded = new Set();
const traces = new Map();
let unsent = { connected: false, replies: [] };
document.addEventListener('click', (event) => {
  const message = event.target.closest('[data-trace-id]');
  if (!message) return;
  const id = message.dataset.traceId;
  if (expanded.has(id)) expanded.delete(id); else expanded.add(id);
  refresh();
});

const stepHtml = (s) => '<li class="step step-' + s.outcome + '"><span class="step-name">' + esc(s.step) + '</span> ' + esc(s.detail) +
  (s.at ? '<span class="step-at">' + time(s.at) + '</span>' : '') + '</li>';
const traceHtml = (id) => expanded.has(id)
  ? '<ol class="trace" data-trace-of="' + esc(id) + '">' + (traces.get(id) || [{ step: 'trace', outcome: 'waiting', detail: 'reading…' }]).map(stepHtml).join('') + '</ol>'
  : '';
// A long message would push the rest of the conversation out of sight: its start and its length are enough.
const clip = (text) => { const chars = [...text]; return chars.length > 200 ? chars.slice(0, 200).join('') + '… (' + chars.length + ' characters)' : text; };
const messageHtml = (m) => '<div class="message from-' + m.from + '" data-trace-id="' + esc(m.id) + '" title="' + time(m.at) + ' · click for its trace">' + esc(clip(m.text)) +
  (m.from === 'refused' ? '<span class="why">refused by the platform: click for the reason</span>' : '') + '</div>' + traceHtml(m.id);
const unsentHtml = (r) => '<div class="message from-unsent">' + esc(r.title) +
  r.steps.map((s) => '<span class="why">' + esc(s.step + ': ' + s.detail) + '</span>').join('') + '</div>';
const unsentFor = (account, customer) => unsent.replies.filter((r) => r.account === account && r.customer === customer);
const window48 = (c) => (c.windowEndsAt ? '<span>48 h window ' + (c.windowEndsAt > lastState.now ? 'ends ' + time(c.windowEndsAt) : 'over') + '</span>' : '');
let lastState;

function render(state) {
  lastState = state;
  $('clock').textContent = time(state.now);
  $('callbacks').textContent = 'callbacks: ' + state.callbacks.delivered + ' delivered / ' + state.callbacks.total;
  $('push-refusals').textContent = state.callbacks.refused
    ? state.callbacks.refused + ' push' + (state.callbacks.refused === 1 ? '' : 'es') + ' refused by kf-bridge — last: ' + state.callbacks.lastRefusal
    : '';
  for (const [select, options] of [[$('write-account'), state.accounts.map((a) => [a.openKfId, a.name])], [$('mp-app'), state.mpApps.map((a) => [a.appId, a.appId + ' (' + a.originalId + ')'])]]) {
    const chosen = select.value;
    select.innerHTML = options.map(([value, label]) => '<option value="' + esc(value) + '">' + esc(label) + '</option>').join('');
    if (options.some(([value]) => value === chosen)) select.value = chosen;
  }
  const active = new Set(state.faults.map((r) => JSON.stringify(r)));
  for (const f of FAULTS) document.querySelector('[data-fault="' + f.id + '"]').checked = active.has(JSON.stringify(f.rule));
  const placed = new Set();
  const place = (account, customer) => unsentFor(account, customer).map((r) => { placed.add(r); return unsentHtml(r); }).join('');
  if (state.accounts.length > 0) $('accounts').innerHTML = state.accounts.map((account) =>
    '<div class="account" data-open-kfid="' + esc(account.openKfId) + '"><h3>' + esc(account.name) + ' <code>' + esc(account.openKfId) + '</code></h3>' +
    (account.customers.length === 0 ? '<p class="empty">No customer has written yet.</p>' : account.customers.map((c) =>
      '<div class="customer" data-customer="' + esc(c.externalUserId) + '"><div class="customer-head"><strong>' + esc(c.externalUserId) + '</strong>' +
      '<span class="state state-' + c.state + '">' + STATES[c.state] + '</span>' +
      (c.servicerUserId ? '<span>servicer ' + esc(c.servicerUserId) + '</span>' : '') +
      '<span class="quota">replies left: ' + c.repliesLeft + '</span>' + window48(c) + '</div>' +
      '<div class="conversation">' + c.conversation.map(messageHtml).join('') + place(account.openKfId, c.externalUserId) + '</div></div>'
    ).join('')) + '</div>').join('');
  if (state.mpApps.length > 0) $('mp-apps').innerHTML = state.mpApps.map((app) =>
    '<div class="account" data-app-id="' + esc(app.appId) + '"><h3>' + esc(app.originalId) + ' <code>' + esc(app.appId) + '</code> <code>' + esc(app.mode) + ' mode</code></h3>' +
    (app.users.length === 0 ? '<p class="empty">No follower has written yet.</p>' : app.users.map((u) =>
      '<div class="follower customer" data-openid="' + esc(u.openid) + '"><div class="customer-head"><strong>' + esc(u.openid) + '</strong>' +
      '<span class="quota">replies left: ' + u.repliesLeft + '</span>' + window48(u) + '</div>' +
      '<div class="conversation">' + u.conversation.map(messageHtml).join('') + place(app.appId, u.openid) + '</div></div>'
    ).join('')) + '</div>').join('');
  const rest = unsent.replies.filter((r) => !placed.has(r));
  $('unsent').innerHTML = !state.traced
    ? '<p class="empty">kf-bridge is not connected to this simulator (npm start connects it).</p>'
    : rest.length === 0 ? '<p class="empty">None.</p>' : rest.map(unsentHtml).join('');
}

async function loadTraces() {
  await Promise.all([...expanded].map(async (id) => {
    const answer = await fetch('/_sim/trace?id=' + encodeURIComponent(id)).then((r) => r.json());
    traces.set(id, answer.steps || [{ step: 'trace', outcome: 'unknown', detail: answer.error || 'no trace' }]);
  }));
}

let unsentReadAt = 0;
async function loadUnsent(state) {
  // The product's side is read from its ledgers and dead-letter queues: at most every 2 s.
  if (!state.traced || Date.now() - unsentReadAt < 2000) return;
  unsentReadAt = Date.now();
  const answer = await fetch('/_sim/unsent').then((r) => r.json());
  if (!answer.error) unsent = answer;
}

async function refresh() {
  const state = await fetch('/_sim/state').then((r) => r.json());
  render(state);
  await Promise.all([loadTraces(), loadUnsent(state)]);
  render(state);
}
// Dead letters reach their queue without a simulator event: look again now and then.
setInterval(refresh, 3000);
new EventSource('/_sim/stream').onmessage = refresh;
refresh();
</script>
</body>
</html>
`;
