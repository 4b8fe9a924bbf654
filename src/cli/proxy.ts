import type { Agent } from 'node:http';
import { CliError } from './errors.js';
import type { Route } from './failures.js';

/**
 * -x: an http:// or https:// proxy URL; as in curl, one without a scheme is http://
 * (`-x 127.0.0.1:3128`), and "" means no proxy at all.
 */
export function proxyUrl(value: string | undefined, option = '-x'): string | undefined {
  if (value === undefined || value === '') return value;
  const text = value.includes('://') ? value : `http://${value}`;
  if (!URL.canParse(text))
    throw new CliError(
      'usage',
      `${option} takes a proxy URL such as http://127.0.0.1:3128, not ${JSON.stringify(value)}`,
    );
  const url = new URL(text);
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new CliError('usage', `${option} takes an http:// or https:// proxy, not ${url.protocol}//`);
  return url.href;
}

const PROXY_VARIABLES = ['http_proxy', 'https_proxy', 'all_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY'];

/** An environment variable; undefined where the runtime does not let it be read (Deno without --allow-env): then no proxy comes from there. */
function readEnv(name: string): string | undefined {
  try {
    return process.env[name];
  } catch {
    return undefined;
  }
}

type GetProxyForUrl = (url: string) => string;

/** A CONNECT answered with another status than 200: the answer upload() got is the proxy's, not the target's. */
export interface RefusedTunnel {
  proxy: string;
  status: number;
  statusText: string;
}

/** Exit 56 (as curl): the proxy would not open a tunnel to `url`'s host. */
export function tunnelRefused(refused: RefusedTunnel, url: string): CliError {
  const answer = `${refused.status} ${refused.statusText}`.trimEnd();
  return new CliError(
    'receive',
    `the proxy ${new URL(refused.proxy).host} refused the tunnel to ${new URL(url).host}: ${answer}`,
  );
}

type AgentClasses = {
  HttpProxyAgent: typeof import('http-proxy-agent').HttpProxyAgent;
  HttpsProxyAgent: typeof import('https-proxy-agent').HttpsProxyAgent;
};

/** The proxy and agent of each hop (redirects included), as curl chooses them for each URL it sends to. */
export class ProxyRoutes {
  readonly #agents = new Map<string, Agent>();
  readonly #tunnels = new Map<string, RefusedTunnel | undefined>();
  #failure: CliError | undefined;

  constructor(
    /** The proxy for a URL, or undefined: direct. May throw a CliError for a bad proxy in the environment. */
    readonly route: Route,
    private readonly classes: AgentClasses,
  ) {}

  /** upload()'s `agent` option, called for every hop: absolute-form through the proxy for http, a CONNECT tunnel for https. */
  readonly agent = (url: URL): Agent | undefined => {
    let via: string | undefined;
    try {
      via = this.route(url.href);
    } catch (error) {
      this.#failure = error instanceof CliError ? error : new CliError('usage', String(error));
      throw this.#failure;
    }
    if (via === undefined) return undefined;
    const key = `${url.protocol} ${via}`;
    let agent = this.#agents.get(key);
    if (agent === undefined) {
      agent = url.protocol === 'https:' ? this.#tunnelAgent(via) : new this.classes.HttpProxyAgent(via);
      this.#agents.set(key, agent);
    }
    return agent;
  };

  /** The CONNECT for `url` that the proxy refused, if the last one for its host was. */
  refusedTunnel(url: string): RefusedTunnel | undefined {
    const via = this.route(url);
    return via === undefined ? undefined : this.#tunnels.get(`${via} ${new URL(url).hostname}`);
  }

  /** An error agent() met (a bad proxy in the environment for a later hop), whatever upload() made of it. */
  failure(): CliError | undefined {
    return this.#failure;
  }

  #tunnelAgent(via: string): Agent {
    const agent = new this.classes.HttpsProxyAgent(via);
    // Refused, https-proxy-agent hands the proxy's answer to the request as if the target gave it.
    agent.on('proxyConnect', (connect: { statusCode: number; statusText: string }, req: { host?: string }) => {
      const { statusCode: status, statusText } = connect;
      this.#tunnels.set(`${via} ${req.host ?? ''}`, status === 200 ? undefined : { proxy: via, status, statusText });
    });
    return agent;
  }
}

/**
 * The proxies for `-x` (the URL as given, "" for none) and the environment, or undefined when no
 * proxy can apply (then nothing is loaded). The proxy libraries are loaded here, once: agent() is
 * called synchronously for each hop.
 */
export async function proxyRoutes(proxy: string | undefined): Promise<ProxyRoutes | undefined> {
  if (proxy === '') return undefined;
  if (proxy === undefined && !PROXY_VARIABLES.some((name) => readEnv(name))) return undefined;
  // proxy-from-env ships no types: its one function, as it documents it.
  const { getProxyForUrl } = (await import('proxy-from-env' as string)) as { getProxyForUrl: GetProxyForUrl };
  const [{ HttpProxyAgent }, { HttpsProxyAgent }] = await Promise.all([
    import('http-proxy-agent'),
    import('https-proxy-agent'),
  ]);
  const route: Route = (url) =>
    proxy === undefined ? fromEnvironment(getProxyForUrl, url) : notBypassed(getProxyForUrl, url, proxy);
  return new ProxyRoutes(route, { HttpProxyAgent, HttpsProxyAgent });
}

/** The environment's proxy for `url` (http_proxy, https_proxy, all_proxy, NO_PROXY), checked. */
function fromEnvironment(getProxyForUrl: GetProxyForUrl, url: string): string | undefined {
  const found = getProxyForUrl(url);
  return found === '' ? undefined : proxyUrl(found, 'the proxy in the environment');
}

/**
 * `proxy` (-x) for `url` unless NO_PROXY lists its host, as curl applies it to -x too: proxy-from-env
 * decides NO_PROXY only together with a proxy variable, so -x stands in for them while it looks.
 */
function notBypassed(getProxyForUrl: GetProxyForUrl, url: string, proxy: string): string | undefined {
  const saved = { http_proxy: process.env.http_proxy, https_proxy: process.env.https_proxy };
  process.env.http_proxy = process.env.https_proxy = proxy;
  try {
    return getProxyForUrl(url) === '' ? undefined : proxy;
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}
