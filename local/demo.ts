import type { Simulator } from '../simulator';

/** Settings the functions run with locally: the environment's value, else serverless.yml's demo value. */
export function effectiveSettings(
  localParams: Record<string, string>,
  env: NodeJS.ProcessEnv,
): Record<string, string> {
  return Object.fromEntries(Object.entries(localParams).map(([name, value]) => [name, env[name] || value]));
}

/**
 * Gives the simulator the corp, kf account and Official Account the local functions are configured for,
 * with callbacks to the local callback function, so a customer writing in the simulator reaches kf-bridge.
 */
export function configureDemo(sim: Simulator, settings: Record<string, string>, callbackUrl: string) {
  const need = (name: string) => {
    const value = settings[name];
    if (!value) throw new Error(`demo setting ${name} is empty`);
    return value;
  };
  sim.createCorp({
    corpId: need('WECOM_CORP_ID'),
    secrets: [need('WECOM_KF_SECRET')],
    callback: {
      url: callbackUrl,
      token: need('WECOM_CALLBACK_TOKEN'),
      encodingAesKey: need('WECOM_ENCODING_AES_KEY'),
    },
    users: ['demo_servicer'],
  });
  const openKfId = sim.createKfAccount(need('WECOM_CORP_ID'), 'kf-bridge 演示客服', {
    servicers: ['demo_servicer'],
  });
  const mp = sim.createMpApp({
    appId: need('MP_APP_ID'),
    secret: need('MP_APP_SECRET'),
    token: need('MP_TOKEN'),
    encodingAesKey: need('MP_ENCODING_AES_KEY'),
    callbackUrl,
    mode: 'safe',
  });
  return { openKfId, mpOriginalId: mp.originalId };
}
