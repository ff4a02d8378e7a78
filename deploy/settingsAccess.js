// The SSM parameters each function's role may read (deploy/roles.yml): exactly the settings
// lib/config/functionSettings.ts gives the function, which are all its config loader asks SSM for.
import {
  DEFAULT_APP,
  FUNCTION_NAMES,
  FUNCTION_SETTINGS,
  settingName,
} from '../lib/config/functionSettings.ts';

/**
 * Parameter ARNs by function. Apps other than the default are listed in KF_BRIDGE_APPS, an SSM setting the
 * template cannot see, so their settings are granted by name pattern with a wildcard for the app's part only:
 * `*_WECOM_CALLBACK_TOKEN` matches every app's callback token and nothing else.
 */
export async function readableParameters({ resolveVariable }) {
  const prefix = (await resolveVariable('param:ssmPrefix')) ?? '';
  // The names the config loader asks for (lib/config/ssm.ts); an ARN carries a name without its leading '/'.
  const path = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
  const arn = (name) => ({
    'Fn::Sub': `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter/${`${path}${name}`.replace(/^\//, '')}`,
  });
  return Object.fromEntries(
    FUNCTION_NAMES.map((functionName) => {
      const { global, perApp } = FUNCTION_SETTINGS[functionName];
      return [
        functionName,
        [
          ...global.map(arn),
          ...perApp.map((setting) => arn(settingName(DEFAULT_APP, setting))),
          ...perApp.map((setting) => arn(settingName('*', setting))),
        ],
      ];
    }),
  );
}
