import yargs, { type Argv } from 'yargs';
import { FAULT_MODES } from '../emulator/faults.js';
import { PROFILE_NAMES, DEMO_PROFILE } from '../emulator/profiles.js';
import {
  DEFAULT_CONCURRENCY,
  DEFAULT_FOLLOW_MAX,
  DEFAULT_GLOBAL_CONCURRENCY,
  DEFAULT_PORT,
  DEFAULT_TIMEOUT_MS,
} from '../core/defaults.js';
import { PACKAGE } from '../core/version.js';
import { FORMAT_NAMES } from '../report/formats/registry.js';
import { DEFAULT_TRANSPORT, TRANSPORT_NAMES, transportOf } from '../transport/registry.js';
import { UsageError, type Args } from './options.js';
import { mistypedCommand, mistypedCommandMessage, unknownOptionMessage } from './suggest.js';
import { completions } from './complete.js';

/** Probe options; `global: false` keeps them out of `serve`, which has flags of its own. */
function probeOptions(y: Argv): Argv {
  const local = { global: false } as const;
  return y
    .option('range', {
      ...local,
      alias: 'r',
      type: 'string',
      describe: 'versions to probe: 7-21, 8,11-13,18 or MSNP8-MSNP18 [default: 2-21]',
    })
    .option('timeout', {
      ...local,
      alias: 't',
      type: 'string',
      describe:
        'deadline per connection, connect and reply together; also bounds name resolution: ' +
        `ms, or 500ms, 5s, 1.5s, 1m [default: ${DEFAULT_TIMEOUT_MS}]`,
    })
    .option('concurrency', {
      ...local,
      alias: 'c',
      type: 'string',
      describe: `connections in flight at once per server (address and port) [default: ${DEFAULT_CONCURRENCY}]`,
    })
    .option('offer', {
      ...local,
      type: 'boolean',
      describe:
        'send the combined offer (every version, highest first) to learn the preferred version ' +
        '[default: true]; --no-offer skips it',
    })
    .option('expect', {
      ...local,
      type: 'string',
      describe:
        'exit 1 unless the accepted set is exactly this range (`none` for the empty set); must lie within --range',
    })
    .option('global-concurrency', {
      ...local,
      type: 'string',
      describe: `connections in flight at once across all targets [default: ${DEFAULT_GLOBAL_CONCURRENCY}]`,
    })
    .option('workers', {
      ...local,
      type: 'string',
      describe:
        'threads that probe a --targets list or a block, each server on one thread; --global-concurrency ' +
        'is divided between them; 1: the main thread only [default: the number of cores]',
    })
    .option('rate', {
      ...local,
      type: 'string',
      describe: 'new connections per second per server (address and port), with +-20% jitter [default: no limit]',
    })
    .option('max-rate', {
      ...local,
      type: 'string',
      describe:
        'new connections per second across all targets (probes, offers, deep, fingerprint, follow), evenly ' +
        'spaced; fractions allowed (0.5: one every 2 s); --global-concurrency still bounds those open at once ' +
        '[default: no limit]',
    })
    .option('retries', {
      ...local,
      type: 'string',
      describe:
        're-probe transient outcomes (timeout, reset, closed without bytes, busy codes) up to N times [default: 0]',
    })
    .option('attempts', {
      ...local,
      type: 'string',
      describe: 'probe every version N times and report agreement [default: 1]',
    })
    .option('baseline', {
      ...local,
      type: 'string',
      describe: 'exit 1 on any conclusive difference from an earlier --json/--ndjson output',
    })
    .option('shard', {
      ...local,
      type: 'string',
      describe:
        'probe only slice I of N of the targets (I/N, e.g. 2/4, or auto: see --shards); N runs cover the list once',
    })
    .option('shards', {
      ...local,
      type: 'string',
      describe:
        'with --shard auto: N, the shard count [default: $MSNP_PROBE_SHARDS]; I is $JOB_COMPLETION_INDEX + 1 ' +
        '(a Kubernetes Indexed Job counts from 0); see docs/SHARDING.md',
    })
    .option('json', {
      ...local,
      type: 'boolean',
      describe: 'print one JSON document (fields: docs/USAGE.md) instead of the table',
    })
    .option('ndjson', { ...local, type: 'boolean', describe: 'print one JSON object per target as soon as it is done' })
    .option('output', {
      ...local,
      alias: 'o',
      type: 'string',
      describe:
        `FORMAT[:FILE], repeatable: ${FORMAT_NAMES.join(', ')}; without FILE on stdout (one format there), ` +
        'e.g. -o table -o json:scan.json [default: table]',
    })
    .option('progress', {
      ...local,
      type: 'boolean',
      describe: 'a progress line on stderr for many targets [default: when stderr is a TTY]',
    })
    .option('quiet', {
      ...local,
      alias: 'q',
      type: 'boolean',
      describe: 'exit code and errors only: nothing on stdout, no progress; -o FORMAT:FILE files are still written',
    })
    .option('deep', {
      ...local,
      type: 'boolean',
      describe:
        'after an accepted VER go on like a real client (CVR, INF, first USR; never a password) ' +
        'and report confirmed or claimed-only',
    })
    .option('handle', {
      ...local,
      type: 'string',
      describe:
        'with --deep: the account named in CVR and USR, e.g. a test account of your own server ' +
        '(never a password) [default: probe@example.com]',
    })
    .option('follow', {
      ...local,
      type: 'boolean',
      describe: 'probe the notification servers that dispatch redirects (XFR) name; implies --deep',
    })
    .option('follow-any', {
      ...local,
      type: 'boolean',
      describe:
        'with --follow: follow any address or valid host name a redirect names ' +
        '[default: same host, or same address class as the target]',
    })
    .option('follow-max', {
      ...local,
      type: 'string',
      describe: `with --follow: servers followed per starting target at the most [default: ${DEFAULT_FOLLOW_MAX}]`,
    })
    .option('fingerprint', {
      ...local,
      type: 'boolean',
      describe:
        'name the implementation (Escargot by era, ReMessenger, Microsoft...) from about ten ' +
        'behavioural probes; see docs/FINGERPRINTS.md',
    })
    .option('transcript', {
      ...local,
      type: 'boolean',
      describe: 'keep every byte sent and received per probe, timestamped, in the JSON',
    })
    .option('verbose', {
      ...local,
      alias: 'v',
      type: 'boolean',
      describe: 'print the transcripts on stderr, escaped; implies --transcript',
    })
    .option('transport', {
      ...local,
      type: 'string',
      choices: TRANSPORT_NAMES,
      describe: `${transportHelp()} [default: ${DEFAULT_TRANSPORT}]`,
    })
    .option('proxy', {
      ...local,
      type: 'string',
      describe:
        'connect through a SOCKS5 proxy: socks5://HOST:PORT, or socks5h://HOST:PORT to have the proxy resolve ' +
        'target names (nothing is looked up here); carries every --transport (each gateway request too) ' +
        '[default port: 1080]',
    })
    .option('gateway-ns', {
      ...local,
      type: 'string',
      describe: 'with --transport http: the IP= the gateway is asked to reach [default: the target host]',
    })
    .option('color', {
      ...local,
      type: 'boolean',
      describe:
        'colour the table [default: when stdout is a TTY and NO_COLOR is unset, TERM is not dumb; ' +
        'FORCE_COLOR=1 forces, FORCE_COLOR=0 stops]; --no-color disables',
    });
}

function emulatorOptions(y: Argv, defaultPort: number, probing = false): Argv {
  const local = { global: false } as const;
  return y
    .option('profile', {
      ...local,
      type: 'string',
      describe:
        `server generation to emulate: ${PROFILE_NAMES.join(', ')}, or escargot@YYYY-MM-DD ` +
        `(Escargot as of that date, from 2017-05-30; see \`profiles\`) [default: ${DEMO_PROFILE}]`,
    })
    .option('versions', { ...local, type: 'string', describe: "override the profile's accepted versions, e.g. 8-18" })
    .option('fault', {
      ...local,
      type: 'string',
      array: true,
      describe: `misbehave: [VERSIONS:]MODE[:ARG], repeatable. Modes: ${FAULT_MODES.join(', ')}`,
    })
    .option('delay', {
      ...local,
      type: 'string',
      describe: 'latency added before every reply: ms, or 500ms, 2s, 1m [default: 0]',
    })
    .option('idle-timeout', {
      ...local,
      type: 'string',
      describe: 'drop connections idle this long: ms, or 30s, 5m [default: 60000]',
    })
    .option('max-connections', { ...local, type: 'string', describe: 'connections open at once [default: 1024]' })
    .option('transport', {
      ...local,
      type: 'string',
      // demo adds the probe's --transport too: yargs would list choices declared twice twice.
      ...(probing ? {} : { choices: ['tcp', 'http'] }),
      describe: 'tcp, or http: serve the MSN HTTP gateway (POST /gateway/gateway.dll) [default: tcp]',
    })
    .option('dispatch', {
      ...local,
      type: 'boolean',
      describe:
        'Microsoft profiles: a dispatch server whose XFR points at a second, emulated notification server ' +
        '[default: true]; --no-dispatch serves logins directly',
    })
    .option('host', { ...local, type: 'string', describe: 'address to listen on [default: 127.0.0.1]' })
    .option('port', {
      ...local,
      alias: 'p',
      type: 'string',
      describe: `port to listen on, 0 for any free one [default: ${defaultPort}]`,
    });
}

function exporterOptions(y: Argv): Argv {
  const local = { global: false } as const;
  return y
    .option('listen', {
      ...local,
      type: 'string',
      describe: 'HOST:PORT to serve HTTP on, port 0 for any free one [default: 127.0.0.1:9863]',
    })
    .option('config', {
      ...local,
      type: 'string',
      describe: 'modules (range, timeout, concurrency, deep, transport, targets) from a YAML or JSON FILE',
    })
    .option('allow', {
      ...local,
      type: 'string',
      array: true,
      describe:
        'targets that may be probed: IP, CIDR or host name, each with an optional :PORT; repeatable ' +
        "[default: only targets the config's modules list]",
    })
    .option('max-probes', {
      ...local,
      type: 'string',
      describe: 'probes running at once; more scrapes get HTTP 503 [default: 4]',
    });
}

function badgeOptions(y: Argv): Argv {
  const local = { global: false } as const;
  return y
    .option('from', {
      ...local,
      type: 'string',
      describe: 'read an earlier --json or --ndjson report FILE instead of probing',
    })
    .option('label', { ...local, type: 'string', describe: 'the left-hand text of the badge [default: MSNP]' })
    .option('range', { ...local, alias: 'r', type: 'string', describe: 'versions to probe [default: 2-21]' })
    .option('timeout', {
      ...local,
      alias: 't',
      type: 'string',
      describe: `deadline per connection: ms, or 500ms, 5s, 1m [default: ${DEFAULT_TIMEOUT_MS}]`,
    })
    .option('transport', {
      ...local,
      type: 'string',
      choices: TRANSPORT_NAMES,
      describe: `${transportHelp()} [default: ${DEFAULT_TRANSPORT}]`,
    });
}

/** `tcp: MSNP straight over TCP (port 1863); http: ...`, from the transport registry. */
function transportHelp(): string {
  return TRANSPORT_NAMES.map((name) => {
    const t = transportOf(name);
    return `${name}: ${t.summary} (port ${t.defaultPort})`;
  }).join('; ');
}

/** `1863; 80 with --transport http`: each transport's default port. */
function defaultPortsHelp(): string {
  const [first, ...rest] = TRANSPORT_NAMES.map(transportOf);
  return [`${first?.defaultPort}`, ...rest.map((t) => `${t.defaultPort} with --transport ${t.name}`)].join('; ');
}

function mergeOptions(y: Argv): Argv {
  const local = { global: false } as const;
  return y
    .option('json', { ...local, type: 'boolean', describe: 'print one JSON document instead of the matrix' })
    .option('ndjson', { ...local, type: 'boolean', describe: 'print one JSON object per target, in target order' })
    .option('targets', {
      ...local,
      type: 'string',
      describe:
        'the list the shards split: its order is the output order; exit 1 if a target has no result ' +
        '[default: sorted by host, then port]',
    })
    .option('port', {
      ...local,
      alias: 'p',
      type: 'string',
      describe: `with --targets: the port of a line naming none [default: ${DEFAULT_PORT}]`,
    })
    .option('color', {
      ...local,
      type: 'boolean',
      describe:
        'colour the matrix [default: when stdout is a TTY and NO_COLOR is unset, TERM is not dumb; ' +
        'FORCE_COLOR=1 forces, FORCE_COLOR=0 stops]',
    });
}

export const COMMANDS = ['serve', 'demo', 'profiles', 'completion', 'exporter', 'badge', 'merge'] as const;
export type CommandName = (typeof COMMANDS)[number];

/**
 * Options whose values are numbers (some with a unit: 5s, 500ms). They stay strings to yargs'
 * parser, which would turn `5s` into NaN, but `.number()` makes help show `[number]`, not `[string]`.
 */
const NUMBERS = {
  probe: [
    'timeout',
    'concurrency',
    'global-concurrency',
    'rate',
    'max-rate',
    'workers',
    'retries',
    'attempts',
    'shards',
    'follow-max',
  ],
  emulator: ['delay', 'idle-timeout', 'max-connections', 'port'],
} as const;

const EXIT_CODES_HELP =
  'Exit codes: 0 done (checks met), 1 --expect or --baseline not met, 2 usage error,' +
  ' 3 a target never answered as an MSNP server, 4 internal error, 5 output could not be written,' +
  ' 6 this machine ran out of file descriptors or ports (some results unknown),' +
  ' 130/143 stopped by SIGINT/SIGTERM, 141 the reader closed the pipe (| head).';

/** -4/-6 where a command resolves names: `what` says what the family is chosen for. */
function familyOptions(y: Argv, what: string): Argv {
  return y
    .option('ipv4', { global: false, alias: '4', type: 'boolean', describe: `only IPv4 addresses ${what}` })
    .option('ipv6', { global: false, alias: '6', type: 'boolean', describe: `only IPv6 addresses ${what}` });
}

/** Each subcommand's own options and help, for the parser, for completion and for did-you-mean. */
const COMMAND_OPTIONS: Record<CommandName, (y: Argv) => Argv> = {
  serve: (y) =>
    emulatorOptions(y, DEFAULT_PORT)
      .number([...NUMBERS.emulator])
      .example('$0 serve --profile escargot --port 1863', 'an emulated Escargot server on 127.0.0.1:1863')
      .example('$0 serve --profile escargot@2019-06-19', 'Escargot as of that date')
      .example('$0 serve --fault 13:reset', 'reset connections that offer MSNP13')
      .example('$0 serve --transport http --port 8080', 'the MSN HTTP gateway on 127.0.0.1:8080'),
  demo: (y) =>
    familyOptions(
      probeOptions(emulatorOptions(y, 0, true)),
      'for the emulator: -6 listens on ::1 (or the IPv6 address of --host NAME), -4 on 127.0.0.1',
    )
      .describe(
        'transport',
        'tcp, or http: the emulator serves the MSN HTTP gateway and the probe uses it [default: tcp]',
      )
      .number([...NUMBERS.probe, ...NUMBERS.emulator])
      .example('$0 demo', 'probe the emulated July 2007 servers')
      .example('$0 demo --profile escargot --deep', 'log in like a client after each accepted version')
      .example('$0 demo --fault 9:reset --json', 'a misbehaving server, as JSON')
      .example('$0 demo --transport http --range 8-12', 'through the HTTP gateway')
      .epilogue(EXIT_CODES_HELP),
  profiles: (y) => y.example('$0 profiles', 'the profiles, their sources, and the Escargot eras'),
  completion: (y) => y,
  exporter: (y) =>
    familyOptions(exporterOptions(y), 'of the target names a scrape asks for (an address is probed as given)')
      .number(['max-probes'])
      .example('$0 exporter --allow 127.0.0.1', 'scrape /probe?target=127.0.0.1:1863 on port 9863')
      .example('$0 exporter --allow 127.0.0.0/8', 'any loopback address may be probed'),
  badge: (y) =>
    familyOptions(badgeOptions(y), 'of HOST, when it is a name (not with --from)')
      .number(['timeout'])
      .example('$0 badge 127.0.0.1:1863 > msnp.svg', 'probe the server there and draw what it accepts')
      .example('$0 badge --from scan.json 127.0.0.1:1863', 'draw a target of an earlier --json report')
      .epilogue(EXIT_CODES_HELP),
  merge: (y) =>
    mergeOptions(y)
      .number(['port'])
      .example('$0 merge shard-1.json shard-2.json', 'one matrix of two --shard runs')
      .example('$0 merge --json shard-*.json', 'one JSON document of every shard'),
};

interface YargsOptions {
  key: Record<string, unknown>;
  alias: Record<string, string[]>;
  choices: Record<string, readonly string[]>;
  boolean: string[];
}

/** What yargs knows of a command's options (or the plain probe's, for null), help and version included. */
export function commandOptions(command: CommandName | null): {
  names: string[];
  aliases: Record<string, string[]>;
  choices: Record<string, readonly string[]>;
  booleans: string[];
} {
  // The root's own options are the plain probe's: subcommands add theirs only when they run.
  const y = command === null ? parser() : COMMAND_OPTIONS[command](yargs()).help().version();
  // getOptions() is public in yargs but missing from its type declarations.
  const o = (y as unknown as { getOptions(): YargsOptions }).getOptions();
  const booleans = o.boolean.flatMap((b) => [b, ...(o.alias[b] ?? [])]);
  return { names: Object.keys(o.key), aliases: o.alias, choices: o.choices, booleans };
}

/** The first word of `argv` that is neither an option nor an option's value. */
export function firstPositional(argv: readonly string[], booleans: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] as string;
    if (word === '--') return argv[i + 1];
    if (!word.startsWith('-') || word === '-') return word;
    const name = word.replace(/^--?(no-)?/, '');
    // A value follows unless the option is a flag, is given as --name=value, or is a bundle of short flags.
    const bundle = /^-[^-]{2,}/.test(word);
    if (!word.includes('=') && !bundle && !booleans.includes(name)) i++;
  }
  return undefined;
}

/** The subcommand a command line runs: its first word that names one, or null for a probe. */
export function commandOf(argv: readonly string[]): CommandName | null {
  const word = argv.find((a) => (COMMANDS as readonly string[]).includes(a));
  return (word as CommandName | undefined) ?? null;
}

function parser(): Argv {
  // Targets are plain positionals (argv._) rather than a `$0` default command: a default command
  // would swallow `completion` and send it to DNS as a host name.
  return (
    probeOptions(yargs())
      .scriptName('msnp-probe')
      .usage(
        [
          '$0 [HOST[:PORT]..] [options]',
          '',
          'Which MSN Messenger protocol (MSNP) versions does a server accept, and how does it answer the rest?',
          'Targets: HOST, HOST:PORT, [IPv6]:PORT or msnp://host:port, CIDR blocks (10.0.0.0/24[:PORT]) and ' +
            'ranges (10.0.0.1-10.0.0.9[:PORT]); one connection per version, plus one combined offer.',
        ].join('\n'),
      )
      .option('host', { global: false, type: 'string', describe: 'server to probe (same as a positional HOST)' })
      .option('targets', {
        global: false,
        type: 'string',
        describe: 'read targets from FILE, or - for stdin: one per line, # comments, masscan lists',
      })
      .option('port', {
        global: false,
        alias: 'p',
        type: 'string',
        describe: `port when a target (given or in --targets) names none [default: ${defaultPortsHelp()}]`,
      })
      .option('exclude', {
        global: false,
        type: 'string',
        describe: 'never probe these: addresses, CIDR blocks, ranges or host names, comma-separated, repeatable',
      })
      .option('exclude-file', {
        global: false,
        type: 'string',
        describe: 'never probe the addresses, blocks, ranges or names listed in FILE (# comments)',
      })
      .option('ipv4', { global: false, alias: '4', type: 'boolean', describe: 'only IPv4 addresses of names' })
      .option('ipv6', { global: false, alias: '6', type: 'boolean', describe: 'only IPv6 addresses of names' })
      .command('serve', 'run an emulated MSNP server until Ctrl-C', COMMAND_OPTIONS.serve)
      .command('demo', 'start an emulated server in-process and probe it (what `npm start` runs)', COMMAND_OPTIONS.demo)
      .command('profiles', 'list the emulator profiles', COMMAND_OPTIONS.profiles)
      .command(
        'exporter',
        'a Prometheus exporter: GET /probe?target=HOST:PORT probes one allowed target (docs/EXPORTER.md)',
        COMMAND_OPTIONS.exporter,
      )
      .command(
        'badge',
        'print an SVG badge (MSNP 2-21) of the versions HOST[:PORT] accepts, probed or read --from a report',
        COMMAND_OPTIONS.badge,
      )
      .command(
        'merge',
        'merge shard outputs (FILE... of --shard runs with --json or --ndjson) into one matrix, --json or --ndjson',
        COMMAND_OPTIONS.merge,
      )
      .example('$0 --host messenger.hotmail.com --range 7-21', 'probe MSNP7 to MSNP21 on port 1863')
      .example('$0 127.0.0.1:1863 --json', 'a JSON document for scripts')
      .example('$0 [::1]:1863 --expect 2-21', 'CI: exit 1 unless exactly MSNP2-21 are accepted')
      .example('$0 serve --profile escargot --port 1863', 'an emulated Escargot server on 127.0.0.1:1863')
      .example(
        '$0 serve --fault 13:reset --fault 15:error:600',
        'an emulated server that misbehaves for chosen versions',
      )
      .example('$0 demo', 'probe the emulated July 2007 servers')
      .number([...NUMBERS.probe, 'port'])
      .epilogue(
        `${EXIT_CODES_HELP}\n\nTables fit the terminal's width; COLUMNS=N fits a pipe or file too` +
          ' (under 40 columns nothing is fitted).',
      )
      .completion('completion', 'print a bash/zsh completion script')
      .version(PACKAGE.version)
      .alias('version', 'V')
      .help()
      .alias('help', 'h')
      .strictOptions()
      .showHelpOnFail(false)
      .exitProcess(false)
      // A pty can report 0 columns, and wrap(0) would mean no wrapping at all.
      .wrap(Math.min(100, process.stdout.columns || 100))
  );
}

export type Parsed = { err: Error | null; args: Args; output: string };

export function parse(argv: string[]): Promise<Parsed> {
  return new Promise((resolve) => {
    const y = parser().fail((message, err) => {
      if (err) throw err;
      const command = commandOf(argv);
      // `exportr --allow X`: the typo is the command, not the options yargs stumbles on first.
      const word = command === null ? firstPositional(argv, commandOptions(null).booleans) : undefined;
      const meant = word === undefined ? null : mistypedCommand(word, COMMANDS);
      if (word !== undefined && meant !== null) throw new UsageError(mistypedCommandMessage(word, meant));
      const unknown = unknownOptionMessage(message, commandOptions(command).names);
      // yargs wraps some messages over lines ("Invalid values:\n  Argument: ..."): keep one sentence.
      throw new UsageError(unknown ?? message.replace(/\s*\n\s*/g, ' '));
    });
    if (argv.includes('--get-yargs-completions')) {
      // The shell asks for completions: the words after the program name, the last being typed.
      const words = argv.slice(argv.indexOf('--get-yargs-completions') + 2);
      resolve({ err: null, args: { help: true }, output: completions(words).join('\n') });
      return;
    }
    if (commandOf(argv) === 'completion' && argv.some((a) => a === '--help' || a === '-h')) {
      // yargs would print the script: `completion --help` is for reading, not for sourcing.
      resolve({ err: null, args: { help: true }, output: completionHelp() });
      return;
    }
    y.parse(argv, {}, (err, args, output) => resolve({ err: err ?? null, args: args as Args, output }));
  });
}

function completionHelp(): string {
  return [
    'msnp-probe completion',
    '',
    'Print a bash or zsh completion script (zsh when $SHELL names it) that completes subcommands,',
    "each one's options, and values: profiles and eras (--profile), formats (-o), transports, fault modes.",
    '',
    'Examples:',
    '  msnp-probe completion >> ~/.bashrc   bash: complete msnp-probe in new shells',
    '  msnp-probe completion >> ~/.zshrc    zsh',
    '  source <(msnp-probe completion)      this shell only',
    '',
  ].join('\n');
}
