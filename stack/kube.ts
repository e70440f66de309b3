// A real kube-apiserver backed by a real etcd, for the tests (the envtest model): objects, RBAC,
// watches and server-side apply are real; there is no kubelet or scheduler, so no pod runs.
// The binaries come from scripts/kube-tools.sh; the test PKI is made with openssl on first start.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { KubeConfig, VersionApi } from '@kubernetes/client-node';
import type { Config } from '../core/config.ts';
import { isRunning, startService, stopService, waitUntilHealthy } from './processes.ts';

const ETCD = 'etcd';
const APISERVER = 'kube-apiserver';

const kubeDir = (config: Config) => resolve(config.stack.dir, 'kube');
/** The admin kubeconfig (group system:masters, so it may also impersonate the platform's ServiceAccounts). */
export const kubeconfigPath = (config: Config) => join(kubeDir(config), 'kubeconfig');

const openssl = (cwd: string, ...args: string[]) => {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    throw new Error(`openssl ${args[0]} failed (is openssl installed?): ${String(error)}`, { cause: error });
  }
};

/** A CA, the API server's serving certificate, an admin client certificate and the ServiceAccount signing key. */
const ensurePki = (pki: string) => {
  if (existsSync(join(pki, 'sa.pub'))) return;
  mkdirSync(pki, { recursive: true, mode: 0o700 });
  openssl(pki, 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '3650', '-subj', '/CN=botinteligente-test-ca');
  const signed = (name: string, subject: string, extensions: string) => {
    writeFileSync(join(pki, `${name}.ext`), extensions);
    openssl(pki, 'req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
    openssl(pki, 'x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '3650', '-extfile', `${name}.ext`);
  };
  signed('apiserver', '/CN=kube-apiserver',
    'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n');
  signed('admin', '/O=system:masters/CN=admin', 'extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature,keyEncipherment\n');
  openssl(pki, 'genrsa', '-out', 'sa.key', '2048');
  openssl(pki, 'rsa', '-in', 'sa.key', '-pubout', '-out', 'sa.pub');
};

const writeKubeconfig = (config: Config, pki: string) => {
  const base64 = (file: string) => readFileSync(join(pki, file)).toString('base64');
  const kubeconfig = {
    apiVersion: 'v1', kind: 'Config', 'current-context': 'test',
    clusters: [{ name: 'test', cluster: { server: `https://127.0.0.1:${config.stack.kubeApiserverPort}`, 'certificate-authority-data': base64('ca.crt') } }],
    users: [{ name: 'admin', user: { 'client-certificate-data': base64('admin.crt'), 'client-key-data': base64('admin.key') } }],
    contexts: [{ name: 'test', context: { cluster: 'test', user: 'admin' } }],
  };
  writeFileSync(kubeconfigPath(config), JSON.stringify(kubeconfig, null, 2), { mode: 0o600 });
};

const apiserverAnswers = async (config: Config) => {
  const kubeconfig = new KubeConfig();
  kubeconfig.loadFromFile(kubeconfigPath(config));
  await kubeconfig.makeApiClient(VersionApi).getCode();
};

export const startKube = async (config: Config): Promise<{ reused: boolean; kubeconfig: string }> => {
  const dir = kubeDir(config);
  const pki = join(dir, 'pki');
  ensurePki(pki);
  writeKubeconfig(config, pki);
  if (await isRunning(() => apiserverAnswers(config))) return { reused: true, kubeconfig: kubeconfigPath(config) };
  const bin = (name: string) => resolve(config.stack.toolsDir, 'bin', name);
  if (!existsSync(bin(APISERVER))) throw new Error(`${bin(APISERVER)} is missing: run \`bash scripts/kube-tools.sh\``);

  // A test cluster starts empty: nothing a previous run left behind leaks into this one.
  const etcdData = join(dir, 'etcd-data');
  rmSync(etcdData, { recursive: true, force: true });
  const etcdPort = config.stack.etcdPort;
  const local = (port: number) => `http://127.0.0.1:${port}`;
  startService(config.stack.dir, ETCD, bin(ETCD), [
    '--name', 'test', '--data-dir', etcdData, '--log-level', 'warn',
    '--unsafe-no-fsync', // a throw-away test cluster: speed over durability
    '--listen-client-urls', local(etcdPort), '--advertise-client-urls', local(etcdPort),
    '--listen-peer-urls', local(etcdPort + 1), '--initial-advertise-peer-urls', local(etcdPort + 1),
    '--initial-cluster', `test=${local(etcdPort + 1)}`, '--listen-metrics-urls', local(etcdPort + 2),
  ]);
  await waitUntilHealthy(config.stack.dir, ETCD, async () => {
    const response = await fetch(`${local(etcdPort)}/health`);
    if (!response.ok) throw new Error(`etcd /health answered ${response.status}`);
  });

  const port = config.stack.kubeApiserverPort;
  startService(config.stack.dir, APISERVER, bin(APISERVER), [
    `--etcd-servers=${local(etcdPort)}`,
    '--bind-address=127.0.0.1', '--advertise-address=127.0.0.1', `--secure-port=${port}`,
    `--cert-dir=${join(dir, 'apiserver-certs')}`,
    `--tls-cert-file=${join(pki, 'apiserver.crt')}`, `--tls-private-key-file=${join(pki, 'apiserver.key')}`,
    `--client-ca-file=${join(pki, 'ca.crt')}`,
    '--authorization-mode=RBAC', // RBAC on: the tests check the platform's roles by impersonation
    `--service-account-issuer=https://127.0.0.1:${port}/`,
    `--service-account-key-file=${join(pki, 'sa.pub')}`, `--service-account-signing-key-file=${join(pki, 'sa.key')}`,
    '--service-cluster-ip-range=10.0.0.0/24', '--allow-privileged=true',
    // No controller-manager issues ServiceAccount tokens here; the admission plugin would wait for them.
    '--disable-admission-plugins=ServiceAccount',
    // The loopback advertise address is refused by the endpoint reconciler, which then logs forever.
    '--endpoint-reconciler-type=none',
  ]);
  await waitUntilHealthy(config.stack.dir, APISERVER, () => apiserverAnswers(config), 120_000);
  return { reused: false, kubeconfig: kubeconfigPath(config) };
};

export const stopKube = async (config: Config) => {
  await stopService(config.stack.dir, APISERVER);
  await stopService(config.stack.dir, ETCD);
};
