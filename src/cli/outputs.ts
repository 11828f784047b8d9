/**
 * The outputs of `cfstream run`: the MQTT publisher (pipelines/sinks/mqtt.ts), the embedded broker
 * (devices/mqtt/broker.ts) when the config asks for one, and the live dashboard. Composition only:
 * each part validates its own options; this file turns start-up failures (a port in use, a broker
 * that does not answer) into one clear line.
 */
import { randomBytes } from 'node:crypto';
import { firstValueFrom, race, timer, type Observable } from 'rxjs';
import { filter, map } from 'rxjs/operators';
import type { EmbeddedBroker } from '../../devices/mqtt/broker.js';
import type { BrokerUser } from '../../devices/mqtt/brokerAuth.js';
import type { StreamInfo } from '../frames/index.js';
import type { ActivationsMessage, FactorsMessage, MetricsSnapshot, OutputSettings } from '../../pipelines/index.js';
import { LogThrottle } from '../../pipelines/internal/logThrottle.js';
import { UsageError } from './args.js';

/** What `startOutputs` needs. */
export interface OutputRequest {
  outputs: OutputSettings | undefined;
  /** `--broker`: 'embedded', a URL, or 'none' (overrides the config). */
  brokerFlag?: string;
  /** No dashboard (`--headless`). */
  headless: boolean;
  info: StreamInfo;
  factors$: Observable<FactorsMessage & { trueError?: number | null }>;
  metrics$: Observable<MetricsSnapshot>;
  /** The model's activations (codes h), sampled. */
  activations$?: Observable<ActivationsMessage>;
  /** The stream's state for the status topic: 'stale' while the source is silent, 'online' again when frames come back. */
  status$?: Observable<'online' | 'stale'>;
  /** A line for the log (stderr). */
  log: (line: string) => void;
  /** ms to wait for the broker at start-up (5000). */
  connectTimeoutMs?: number;
}

/** The running outputs. */
export interface RunningOutputs {
  /** `mqtt://…` of the broker the results go to, if any. */
  readonly brokerUrl: string | undefined;
  /** The seq and index of the factors the broker held retained at start (a previous run's), if any. */
  readonly retained: { seq: number; index: number } | undefined;
  /** The dashboard's address, if it runs. */
  readonly dashboardUrl: string | undefined;
  /** Publishes 'offline', closes the connection, the dashboard and the embedded broker. */
  close(): Promise<void>;
}

/** Starts the configured outputs (module header); throws UsageError with one clear line at start-up. */
export async function startOutputs(r: OutputRequest): Promise<RunningOutputs> {
  const mqttOut = r.outputs?.mqtt;
  const brokerSpec = r.brokerFlag ?? mqttOut?.broker;
  if (!brokerSpec || brokerSpec === 'none') return { brokerUrl: undefined, dashboardUrl: undefined, retained: undefined, close: async () => undefined };
  if (brokerSpec !== 'embedded' && !/^(mqtts?|wss?):\/\/.+/.test(brokerSpec)) {
    throw new UsageError(`--broker ${brokerSpec}: expected 'embedded', 'none' or a broker URL (mqtt://host:port, mqtts://, ws://, wss://)`);
  }
  const closers: (() => Promise<void>)[] = [];
  const closeAll = async (): Promise<void> => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
  };
  try {
    let url = brokerSpec;
    let wsUrl: string | undefined = r.outputs?.dashboard?.wsUrl;
    const embedded = brokerSpec === 'embedded';
    let login: { username?: string; password?: string } = { username: mqttOut?.username, password: mqttOut?.password };
    if (embedded) {
      const { startBroker } = await import('../../devices/mqtt/broker.js');
      const b = r.outputs?.broker ?? {};
      const security = await embeddedBrokerSecurity(b, mqttOut);
      login = security.login;
      const wantWs = !r.headless && r.outputs?.dashboard?.enabled !== false;
      const start = (port: number, wsPort: number | false) => startBroker({
        host: b.host, port, wsPort, users: security.users, username: b.username, password: b.password, anonymousRole: b.anonymousRole,
        prefix: b.prefix ?? mqttOut?.prefix, maxPayloadBytes: b.maxPayloadBytes, maxClientBacklogBytes: b.maxClientBacklogBytes, tls: b.tls,
      });
      let broker;
      try {
        broker = await start(b.port ?? 1883, wantWs ? b.wsPort ?? 9001 : false);
      } catch (e) {
        // The zero-setup default should not fail because a local mosquitto holds 1883: ports the
        // config did not pin fall back to free ones (printed below); pinned ones are an error.
        const pinned = b.port !== undefined || (wantWs && b.wsPort !== undefined);
        const message = (e as Error).message;
        if (!/ listener on /.test(message)) throw new UsageError(`embedded MQTT broker: ${message}`);
        if (pinned || !/EADDRINUSE|in use/i.test(message)) {
          throw new UsageError(`embedded MQTT broker: ${message} (set outputs.broker.port / wsPort, 0 for free ones, or --broker URL)`);
        }
        r.log(`  ${(e as Error).message}: using free ports instead`);
        broker = await start(0, wantWs ? 0 : false);
      }
      closers.push(() => broker.close());
      closers.push(watchBroker(broker, r.log));
      url = broker.url;
      wsUrl = broker.wsUrl ?? wsUrl;
      r.log(`  MQTT broker (embedded): ${broker.url}${broker.wsUrl ? `, WebSocket ${broker.wsUrl}` : ''}${broker.tlsUrl ? `, TLS ${broker.tlsUrl}` : ''}${broker.wssUrl ? `, ${broker.wssUrl}` : ''}`);
      for (const line of security.notes(broker.host, wantWs)) r.log(`  ${line}`);
    }
    const prefix = mqttOut?.prefix ?? 'cfstream';
    const { topicSegment } = await import('../../devices/mqtt/topics.js');
    const stream = topicSegment(r.info.id);
    const credentials = login;
    // A previous run's retained factors: the new ones must not go backwards past them.
    const retained = embedded ? undefined : await retainedFactors(url, credentials, `${prefix}/${stream}/factors`);
    const { MqttSink } = await import('../../pipelines/sinks/mqtt.js');
    const sink = MqttSink.open({
      broker: {
        url, ...credentials,
        ...(embedded ? { protocolVersion: 4 as const } : {}), // aedes speaks 3.1.1 only: skip the refused MQTT 5 attempt
      },
      info: r.info, prefix: mqttOut?.prefix, queueLimit: mqttOut?.queueLimit,
    });
    closers.push(() => sink.close());
    const timeoutMs = r.connectTimeoutMs ?? 5000;
    // A refused MQTT 5 attempt is followed by a 3.1.1 one (not a failure); a fatal error, a refusal
    // or giving up is; anything else is retried until the timeout, whose message says the last error.
    let lastError = '';
    const failure = sink.events$.pipe(
      map((e) => {
        if (e.type === 'error') { lastError = e.message; return e.fatal ? e.message : undefined; }
        if (e.type === 'close' && e.by !== 'client') return e.reason;
        return undefined;
      }),
      filter((m): m is string => m !== undefined),
    );
    const outcome = await firstValueFrom(race(
      sink.ready.then(() => 'ok'),
      failure,
      timer(timeoutMs).pipe(map(() => `no answer within ${timeoutMs / 1000} s${lastError ? ` (${lastError})` : ''}`)),
    ));
    if (outcome !== 'ok') throw new UsageError(`cannot reach the MQTT broker ${url}: ${outcome}`);
    sink.events$.subscribe((e) => {
      if (e.type === 'offline' || e.type === 'reconnect') r.log(`cfstream run: MQTT ${e.type} (${e.url}): ${e.reason}`);
      else if (e.type === 'connect') r.log(`cfstream run: MQTT connected to ${e.url}`);
      else if (e.type === 'drop' || e.type === 'publish-error') r.log(`cfstream run: MQTT ${e.type} on ${e.topic}`);
    });
    sink.attach({ factors$: retained ? r.factors$.pipe(filter((f) => f.seq > retained.seq)) : r.factors$, metrics$: r.metrics$, ...(r.activations$ ? { activations$: r.activations$ } : {}), ...(r.status$ ? { status$: r.status$ } : {}) });
    r.log(`  MQTT: publishing to ${url} on ${prefix}/${stream}/{info,status,factors,metrics${r.activations$ ? ',activations' : ''}}`);
    let dashboardUrl: string | undefined;
    if (!r.headless && r.outputs?.dashboard?.enabled !== false && wsUrl) {
      const { startDashboard } = await import('../dashboard/server.js');
      const d = r.outputs?.dashboard ?? {};
      let dash;
      try {
        dash = await startDashboard({ host: d.host, port: d.port ?? 8080, wsUrl, prefix, stream }).catch((e: Error) => {
          if (d.port !== undefined || !/EADDRINUSE|in use/i.test(e.message)) throw e;
          r.log(`  ${e.message}: serving the dashboard on a free port instead`);
          return startDashboard({ host: d.host, port: 0, wsUrl: wsUrl!, prefix, stream });
        });
      } catch (e) {
        throw new UsageError(`dashboard: ${(e as Error).message} (set outputs.dashboard.port, 0 for a free one, or --headless)`);
      }
      closers.push(() => dash.close());
      dashboardUrl = dash.url;
      r.log(`  dashboard: ${dash.url}`);
    }
    return { brokerUrl: url, dashboardUrl, retained, close: closeAll };
  } catch (e) {
    await closeAll();
    throw e;
  }
}

type BrokerSettings = NonNullable<OutputSettings['broker']>;

/**
 * Logs what the embedded broker refused (no secrets: a refusal carries none) and the QoS 0
 * messages it dropped for slow subscribers. At most 10 refusal lines per 10 s, then a count, so a
 * client retrying a bad password cannot flood the log. Returns the stop function.
 */
function watchBroker(broker: EmbeddedBroker, log: (line: string) => void): () => Promise<void> {
  const refusals = new LogThrottle(10, 10_000);
  let dropped = 0;
  const sub = broker.refusals$.subscribe((e) => {
    const more = refusals.admit();
    if (more !== undefined) log(`cfstream run: broker refused ${e.message}${more > 0 ? ` (+${more} more since the last report)` : ''}`);
  });
  const tick = setInterval(() => {
    const held = refusals.flush();
    if (held > 0) log(`cfstream run: broker refused ${held} more (${JSON.stringify(broker.stats().byReason)} so far)`);
    const d = broker.slowClientDrops();
    if (d.messages > dropped) {
      const who = Object.entries(d.byClient).sort((x, y) => y[1] - x[1]).slice(0, 5).map(([id, n]) => `${id}: ${n}`).join(', ');
      log(`cfstream run: broker dropped ${d.messages - dropped} QoS 0 messages for subscribers that did not keep up (so far ${who})`);
      dropped = d.messages;
    }
  }, 10_000);
  tick.unref();
  return async () => {
    clearInterval(tick);
    sub.unsubscribe();
  };
}

/**
 * Who may log in to the embedded broker, and how the results publisher does: as
 * outputs.mqtt.username (checked now: a pipeline or admin user whose password matches), else,
 * when the broker requires a login, as an internal pipeline user with a random password made now.
 * What it returns for the log (`notes`) never holds a secret.
 */
async function embeddedBrokerSecurity(b: BrokerSettings, mqttOut: OutputSettings['mqtt']) {
  const { brokerUsersFromEnv } = await import('../../devices/mqtt/brokerAuth.js');
  let envUsers: BrokerUser[] = [];
  try {
    if (b.usersFromEnv !== false) envUsers = brokerUsersFromEnv(process.env);
  } catch (e) {
    throw new UsageError(`embedded MQTT broker: ${(e as Error).message}`);
  }
  const users: BrokerUser[] = [...(b.users ?? []), ...envUsers];
  const names = new Set<string>();
  for (const u of users) {
    if (names.has(u.name) || u.name === b.username) throw new UsageError(`embedded MQTT broker: user '${u.name}' is defined twice (outputs.broker.users, outputs.broker.username, the environment)`);
    names.add(u.name);
  }
  const requiresLogin = users.length > 0 || b.username !== undefined;
  let login: { username?: string; password?: string } = {};
  let internal = false;
  if (mqttOut?.username !== undefined) {
    login = { username: mqttOut.username, password: mqttOut.password };
    if (requiresLogin) await checkPublisherLogin(mqttOut.username, mqttOut.password ?? '', users, b);
  } else if (requiresLogin) {
    const name = `cfstream-run-${randomBytes(4).toString('hex')}`;
    const password = randomBytes(24).toString('base64url');
    users.push({ name, role: 'pipeline', password });
    login = { username: name, password };
    internal = true;
  }
  const notes = (host: string, dashboard: boolean): string[] => {
    if (!requiresLogin) {
      const loopback = /^(127\.|::1$|localhost$)/.test(host);
      return loopback ? [] : [`warning: the broker listens on ${host} without users: anyone who reaches it may publish and subscribe (outputs.broker.users)`];
    }
    const from = [
      b.users?.length ? `${b.users.length} from outputs.broker.users` : '',
      envUsers.length ? `${envUsers.length} from the environment` : '',
      b.username !== undefined ? 'outputs.broker.username' : '',
    ].filter(Boolean);
    const out = [`broker login required (users: ${from.join(', ')}); results published as ${internal ? 'an internal pipeline user' : `user '${login.username}'`}${b.anonymousRole ? `; anonymous clients: ${b.anonymousRole}` : ''}`];
    if (dashboard && !b.anonymousRole) out.push('the dashboard page has no login: set outputs.broker.anonymousRole: viewer to let it subscribe');
    return out;
  };
  return { users, login, notes };
}

/** Checks outputs.mqtt.username/password against the embedded broker's users (UsageError naming the user, never the password). */
async function checkPublisherLogin(name: string, password: string, users: readonly BrokerUser[], b: BrokerSettings): Promise<void> {
  const { BROKER_USERS_ENV, verifySecret } = await import('../../devices/mqtt/brokerAuth.js');
  const where = `outputs.mqtt.username '${name}'`;
  if (b.username === name) {
    if (b.password !== password) throw new UsageError(`${where}: outputs.mqtt.password does not match outputs.broker.password`);
    return;
  }
  const user = users.find((u) => u.name === name);
  if (!user) throw new UsageError(`${where} is not a user of the embedded broker (outputs.broker.users, ${BROKER_USERS_ENV}): add it with role pipeline, or leave outputs.mqtt.username out`);
  if (user.role !== 'pipeline' && user.role !== 'admin') throw new UsageError(`${where} has role ${user.role}: the results publisher needs role pipeline (or admin)`);
  const ok = user.passwordHash !== undefined ? await verifySecret(password, user.passwordHash) : user.password === password;
  if (!ok) throw new UsageError(`${where}: outputs.mqtt.password does not match the broker's password for that user`);
}

/** The retained factors message on `topic` (its seq and index), read with a short-lived connection; undefined if none arrives within 1 s. */
async function retainedFactors(url: string, credentials: { username?: string; password?: string }, topic: string): Promise<{ seq: number; index: number } | undefined> {
  const { MqttConnection } = await import('../../devices/mqtt/client.js');
  const conn = new MqttConnection({ url, ...credentials, reconnectAttempts: 1 });
  try {
    await conn.connect();
    const first = firstValueFrom(race(
      conn.messages$.pipe(filter((m) => m.topic === topic && m.retain), map((m) => m.payload.toString('utf8'))),
      timer(1000).pipe(map(() => undefined)),
    ));
    await conn.subscribe(topic, 1);
    const text = await first;
    if (text === undefined || text === '') return undefined;
    const o = JSON.parse(text) as { seq?: unknown; index?: unknown };
    return typeof o.seq === 'number' ? { seq: o.seq, index: typeof o.index === 'number' ? o.index : 0 } : undefined;
  } catch {
    return undefined; // unreadable or unreachable: the sink's own connect reports the broker
  } finally {
    await conn.close(true).catch(() => undefined);
  }
}
