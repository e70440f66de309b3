// The platform's ServiceAccounts can do exactly what they need, checked by impersonation on the real
// API server with RBAC on (`kubectl auth can-i --as=system:serviceaccount:...`): the operator in its
// namespace and nowhere else, the api only BotTenants, the worker and bot pods nothing at all.
import { beforeAll, describe, expect, test } from '@jest/globals';
import { createTestNamespace, testKubeConfig } from './support/kube.ts';
import { applyNamespaceAndCrds, kubectl, kubectlOk, PLATFORM_NAMESPACE, renderOverlay } from './support/k8s-manifests.ts';

const OVERLAY = 'k8s/overlays/local';
let otherNamespace: string;

beforeAll(async () => {
  await applyNamespaceAndCrds(await renderOverlay(OVERLAY));
  await kubectlOk('apply', '--server-side', '-k', OVERLAY);
  otherNamespace = await createTestNamespace(testKubeConfig(), 'rbac');
});

/** `<verb> <resource>[/<subresource>]`, in the platform namespace unless `-n` or `cluster` says otherwise. */
type Check = string;

/** Asks the API server whether the ServiceAccount may do it, impersonating it with its groups. */
const canI = async (account: string, check: Check): Promise<boolean> => {
  const [verb, target, scope] = check.split(' ') as [string, string, string | undefined];
  const [resource, subresource] = target.split('/') as [string, string | undefined];
  const where = scope === undefined ? ['-n', PLATFORM_NAMESPACE] : scope === 'cluster' ? [] : ['-n', scope === 'other' ? otherNamespace : scope];
  const result = await kubectl('auth', 'can-i', verb, resource, ...(subresource ? [`--subresource=${subresource}`] : []), ...where,
    `--as=system:serviceaccount:${PLATFORM_NAMESPACE}:${account}`,
    '--as-group=system:serviceaccounts', `--as-group=system:serviceaccounts:${PLATFORM_NAMESPACE}`, '--as-group=system:authenticated');
  if (result.code > 1) throw new Error(`kubectl auth can-i ${check}: ${result.stderr}`);
  return result.stdout.trim() === 'yes';
};

/** Every check's answer, a few kubectl processes at a time (2 cores). */
const answers = async (account: string, checks: readonly Check[]) => {
  const result: Record<Check, boolean> = {};
  for (let start = 0; start < checks.length; start += 6) {
    const batch = checks.slice(start, start + 6);
    const allowed = await Promise.all(batch.map((check) => canI(account, check)));
    batch.forEach((check, index) => { result[check] = allowed[index]!; });
  }
  return result;
};

const expectAnswers = async (account: string, allowed: readonly Check[], refused: readonly Check[]) => {
  const expected = Object.fromEntries([...allowed.map((check) => [check, true]), ...refused.map((check) => [check, false])]);
  expect(await answers(account, [...allowed, ...refused])).toEqual(expected);
};

const each = (verbs: string, resource: string, scope = '') => verbs.split(' ').map((verb) => `${verb} ${resource}${scope ? ` ${scope}` : ''}`);

const OPERATOR_NEEDS = [
  ...each('get list watch update patch', 'bottenants.botinteligente.io'),
  ...each('get update patch', 'bottenants.botinteligente.io/status'),
  ...each('update', 'bottenants.botinteligente.io/finalizers'),
  ...each('get list watch create update patch delete', 'statefulsets.apps'),
  ...each('get list watch create update patch delete', 'services'),
  ...each('get list watch create update patch delete', 'secrets'),
  ...each('get list watch delete', 'persistentvolumeclaims'),
  ...each('get create update', 'leases.coordination.k8s.io'),
];

// Things no component needs; each SA below is refused all of them.
const NOBODY_NEEDS = [
  ...each('get list', 'secrets', 'other'), ...each('get list', 'secrets', 'kube-system'), 'list secrets cluster',
  ...each('get list', 'bottenants.botinteligente.io', 'other'), 'create statefulsets.apps other', 'get leases.coordination.k8s.io other',
  ...each('get list', 'nodes', 'cluster'), ...each('create delete', 'namespaces', 'cluster'),
  'create clusterroles.rbac.authorization.k8s.io cluster', 'create clusterrolebindings.rbac.authorization.k8s.io cluster',
  ...each('create update', 'customresourcedefinitions.apiextensions.k8s.io', 'cluster'),
  'create roles.rbac.authorization.k8s.io', 'create rolebindings.rbac.authorization.k8s.io', 'create serviceaccounts/token',
  'create pods/exec', 'create pods', 'delete pods', 'get configmaps', 'create deployments.apps', 'delete bottenants.botinteligente.io',
];

describe('the operator', () => {
  test('can do each thing it needs in its namespace', async () => {
    await expectAnswers('operator', OPERATOR_NEEDS, []);
  });

  test('is refused Secrets and BotTenants elsewhere, nodes, cluster-wide writes and everything it does not need', async () => {
    await expectAnswers('operator', [], [
      ...NOBODY_NEEDS, 'create bottenants.botinteligente.io', 'create persistentvolumeclaims', 'update persistentvolumeclaims',
      'delete leases.coordination.k8s.io', 'update pods', 'delete events', 'get pods', 'list pods', 'create events',
    ]);
  });

  test('holds a namespaced Role with exactly the contracted rules, and no cluster-wide binding', async () => {
    const role = JSON.parse((await kubectlOk('get', 'role', 'operator', '-n', PLATFORM_NAMESPACE, '-o', 'json')).stdout) as {
      rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[];
    };
    const granted = role.rules.flatMap((rule) => rule.apiGroups.flatMap((group) => rule.resources.flatMap((resource) =>
      rule.verbs.map((verb) => {
        const [name, sub] = resource.split('/');
        return `${verb} ${name}${group ? `.${group}` : ''}${sub ? `/${sub}` : ''}`;
      }))));
    expect(granted.sort()).toEqual([...OPERATOR_NEEDS].sort());
    const bindings = JSON.parse((await kubectlOk('get', 'clusterrolebindings', '-o', 'json')).stdout) as { items: { subjects?: { name: string; namespace?: string }[] }[] };
    const platformSubjects = bindings.items.flatMap((binding) => binding.subjects ?? []).filter((subject) => subject.namespace === PLATFORM_NAMESPACE);
    expect(platformSubjects).toEqual([]);
  });
});

describe('the api', () => {
  test('can create and patch BotTenants in its namespace, and nothing else', async () => {
    await expectAnswers('api', each('get list create patch', 'bottenants.botinteligente.io'), [
      ...NOBODY_NEEDS, 'update bottenants.botinteligente.io', 'patch bottenants.botinteligente.io/status', 'get secrets', 'create statefulsets.apps',
      'list pods', 'create bottenants.botinteligente.io other',
    ]);
  });
});

describe.each(['worker', 'bot-pod'])('the %s', (account) => {
  test('can do nothing at all', async () => {
    await expectAnswers(account, [], [
      ...NOBODY_NEEDS, 'get pods', 'list secrets', 'get secrets', 'get bottenants.botinteligente.io', 'create bottenants.botinteligente.io',
      'list services', 'create leases.coordination.k8s.io', 'get statefulsets.apps', 'create events',
    ]);
  });
});
