/**
 * The catalog of every error and failure code Perdure emits. Codes are stable: once published a
 * code is never reused for another meaning. `docs/error-codes.md` is generated from this table
 * and a test checks that every code is unique and documented.
 */
export const ERROR_CODES = {
  EXECUTION_NOT_FOUND: {
    meaning: 'No execution with that workflow id (or run id) exists in the namespace.',
    fix: 'Check the namespace and workflow id; list executions to see what exists.',
  },
  EXECUTION_ALREADY_STARTED: {
    meaning: 'An open execution already uses that workflow id in the namespace.',
    fix: 'Pick another workflow id, wait for the open run to close, or pass the same idempotency key to get the existing run back.',
  },
  WORKFLOW_ID_REUSE_REJECTED: {
    meaning: 'The workflow id\'s latest run is closed and the start\'s id reuse policy does not allow a new run (`reject`, or `allowIfFailed` after a completed run).',
    fix: 'Use another workflow id, or start with idReusePolicy "allow" (the default); read the closed run with result() or history().',
  },
  EXECUTION_CLOSED: {
    meaning: 'The execution has already closed, so it cannot take signals, updates, cancellation or termination.',
    fix: 'Start a new execution; read the closed one with result() or history().',
  },
  WORKFLOW_TYPE_NOT_FOUND: {
    meaning: 'No workflow type of that name is registered with the engine: a server registers the workflow(machine) exports of its --workflows module.',
    fix: 'Start one of the registered types the message names (`perdure machine list`), or export the machine with workflow(machine) from the server\'s --workflows module (createServer({ workflows }) when embedded) and restart the server.',
  },
  NAMESPACE_NOT_FOUND: {
    meaning: 'The namespace named by the request does not exist: namespaces other than `default` must be created before use.',
    fix: 'Create it (`perdure namespace create <name>`, POST /api/v1/namespaces, or client.namespaces.create), or check its spelling with `perdure namespace list`.',
  },
  NAMESPACE_ALREADY_EXISTS: {
    meaning: 'A namespace of that name already exists.',
    fix: 'Use it as it is, change it with `perdure namespace update`, or pick another name.',
  },
  INVALID_DEFINITION: {
    meaning: 'The machine uses something the engine cannot make durable.',
    fix: 'Follow the message: use activity() or fromPromise actors with explicit ids, and give every delayed event an id.',
  },
  INVALID_ARGUMENT: {
    meaning: 'An argument from outside did not have the required shape.',
    fix: 'Read the message: it names the field and what it must be.',
  },
  UPDATE_REJECTED: {
    meaning: 'The execution\'s current state does not accept the event sent as an update.',
    fix: 'Query the execution to see which events it accepts now, or send a signal instead.',
  },
  TASK_TOKEN_STALE: {
    meaning: 'A completion named an activity attempt that is no longer outstanding (already completed, retried, timed out or cancelled).',
    fix: 'Nothing to do: the server already moved on. Treat (runId, activityId, attempt) as the idempotency key of activity side effects.',
  },
  STORE_LOCKED: {
    meaning: 'Another process holds the data directory open.',
    fix: 'Stop the other server, or give this one its own data directory.',
  },
  STORE_FAILED: {
    meaning: 'A durable write failed, so nothing of it is acknowledged. LevelDB stops accepting writes (fail-stop) and stays stopped until the server restarts — freeing space is not enough; /healthz answers 503 meanwhile. On PostgreSQL the transaction was rolled back (or the connection broke before its outcome was known) and later writes are tried again.',
    fix: 'LevelDB: check disk space and permissions, then restart the server (or let the orchestrator restart it on the failing /healthz). PostgreSQL: check that the database is reachable and healthy. Everything acknowledged before the failure is intact.',
  },
  STORE_SCHEMA_TOO_NEW: {
    meaning: 'The PostgreSQL database holds a Perdure schema of a newer version than this server knows: a newer Perdure has migrated it.',
    fix: 'Run the Perdure version that migrated the database (or a newer one); an older server never writes to a newer schema.',
  },
  SHARD_OWNERSHIP_LOST: {
    meaning: 'A commit was refused because this server no longer holds the shard it writes at the epoch it took it with: another server took the shard (the fence). Nothing of that commit was written.',
    fix: 'Nothing to repair: the shard\'s new owner carries its executions on. Retry the request against the cluster; if no other server should be running on this database, look for one that is.',
  },
  COMMIT_CONFLICT: {
    meaning: 'A commit of a run was refused because it does not continue the run as stored: another commit of the same run (a stale copy of the run in memory, a second writer, or a second first commit of one run id) got in first. Nothing of it was written.',
    fix: 'Re-read the run and take the step again from where it is stored: retrying the same commit never succeeds. If it happens without a second writer you know of, look for another process or server writing the same runs.',
  },
  SHARD_NOT_HELD: {
    meaning: 'The execution belongs to a shard this server does not hold now: another server of the cluster holds it, or it is being handed over (a server stopped or was lost, and its shards are being taken).',
    fix: 'Retry: a node forwards the call to the shard\'s owner itself, and a shard without an owner is taken within the lease time (about 10 s by default). If it persists, check `perdure cluster status` for live nodes.',
  },
  STORE_CLOSED: {
    meaning: 'The store was used after it was closed.',
    fix: 'Open the store (start the engine) before using it.',
  },
  HISTORY_CORRUPTED: {
    meaning: 'A stored history event failed its checksum; only the execution it belongs to is affected.',
    fix: 'Restore the data directory from a backup, or terminate and restart the affected execution.',
  },
  RUN_CORRUPTED: {
    meaning: 'A stored run record (the run\'s state, snapshot and pending work) failed its checksum; only the execution it belongs to is affected.',
    fix: 'Restore the data directory from a backup, or terminate and restart the affected execution.',
  },
  STORE_CORRUPTED: {
    meaning: 'LevelDB found a damaged file in the data directory (a failed checksum, a truncated or overwritten table, a bad CURRENT or MANIFEST file); the read that met it was refused.',
    fix: 'The data directory is damaged, not the server: stop the server and restore the directory from a backup. Retrying does not help. Before trying LevelDB\'s repair, copy the directory: repair can drop data.',
  },
  NONDETERMINISM: {
    meaning: 'Replaying an execution\'s history through its machine produced different commands or a different snapshot.',
    fix: 'The machine changed under running executions: register the old version beside the new one, or reset the execution.',
  },
  VERSION_MISSING: {
    meaning: 'The execution started on a machine version this engine does not have; it is blocked, not failed.',
    fix: 'Register the named version of the machine beside the new one; the execution resumes where it stopped.',
  },
  MICROSTEP_LIMIT_EXCEEDED: {
    meaning: 'A machine step took more microsteps than the engine allows (10,000 by default): an eventless (`always`) loop, or raised events that never settle. Nothing of the step was committed; the execution is blocked at the state it was in (or failed, under stepLimits.onStepFailure "fail"; a first step is refused).',
    fix: 'Break the loop in the machine (a guard that ends it, or a state that waits for an event), register the fixed version and migrate the run to it, or terminate the run. Raise stepLimits.maxMicrosteps only for a step that really needs more.',
  },
  STEP_TIME_BUDGET_EXCEEDED: {
    meaning: 'A machine step ran longer than its time budget (1 s by default) in synchronous code: a slow guard, assign, context factory or output function. Nothing of the step was committed; the execution is blocked (always: the overrun depends on the server, so it is never recorded as a failure).',
    fix: 'Move slow work out of the machine into an activity, register the fixed version and migrate the run to it; or raise stepLimits.timeBudgetMs and restart the server, which retries the step.',
  },
  MACHINE_CODE_FAILED: {
    meaning: 'A guard, assign, context factory or output function of the machine threw. Nothing of the step was committed; the execution is blocked (or failed, under stepLimits.onStepFailure "fail"; a first step is refused).',
    fix: 'Read the cause in the message and fix the machine: register the fixed version and migrate the run to it, or terminate the run.',
  },
  ENGINE_STOPPED: {
    meaning: 'The engine is stopping or stopped and takes no new work.',
    fix: 'Retry against a running server.',
  },
  PROTOCOL_ERROR: {
    meaning: 'A frame was not valid msgpack, not a known frame, or not valid for its type; or it came before hello.',
    fix: 'Use the Perdure SDKs, or follow docs/protocol.md: one msgpack map per binary frame, hello first.',
  },
  PROTOCOL_VERSION: {
    meaning: 'The peer speaks a protocol version this server does not support.',
    fix: 'Upgrade the SDK or the server so that they share a version; the error lists the versions supported.',
  },
  FRAME_TOO_LARGE: {
    meaning: 'A frame exceeded the server\'s frame size limit (4 MiB by default); the connection is closed.',
    fix: 'Send smaller payloads (store large data elsewhere and pass a reference), or raise --max-frame-bytes.',
  },
  HELLO_TIMEOUT: {
    meaning: 'A WebSocket connection sent no hello within the server\'s hello timeout (10 s by default); the connection is closed (1008).',
    fix: 'Send hello as the first frame right after connecting (the SDKs do); raise --hello-timeout-ms for a very slow link.',
  },
  SEND_BUFFER_FULL: {
    meaning: 'The peer did not read what the server sent, and the data waiting for it passed the per-connection send buffer (16 MiB by default); the connection is closed.',
    fix: 'Read the socket: a peer must keep receiving while it sends requests. Ask for less at once (smaller pages, fewer requests in flight), or raise --max-send-buffer-bytes.',
  },
  UNAUTHORIZED: {
    meaning: 'The request had no valid token while the server requires one.',
    fix: 'Send Authorization: Bearer <token> (the SDKs take a token option; the CLI --token or PERDURE_TOKEN).',
  },
  FORBIDDEN: {
    meaning: 'The token is valid but not for this namespace or role.',
    fix: 'Use a token scoped to the namespace and role (worker, client or admin) of the request.',
  },
  TOO_MANY_REQUESTS: {
    meaning: 'The peer has too many requests waiting for an answer.',
    fix: 'Wait for answers before sending more, or raise the limit on the server.',
  },
  NOT_FOUND: {
    meaning: 'No API route matches the method and path.',
    fix: 'Check the path against the HTTP API in the README.',
  },
  INTERNAL: {
    meaning: 'The server failed in a way it did not expect; the message says what it was doing.',
    fix: 'Retry; if it persists, report it with the server log around the time.',
  },
  TIMEOUT: {
    meaning: 'A wait ended before the execution reached the awaited point.',
    fix: 'Wait longer, or query the execution to see where it is.',
  },
  CONNECTION_LOST: {
    meaning: 'An SDK lost its connection to the server (or could not reach it) while a request was waiting; whether a request already sent took effect is unknown.',
    fix: 'Retry: the SDK reconnects by itself. Reads are safe to repeat; repeat a start with the same idempotencyKey to get the same run back.',
  },
  // Payload codecs (docs/payloads.md): raised by the client and worker SDKs, never by the server,
  // which only ever sees envelopes.
  PAYLOAD_TOO_LARGE: {
    meaning: 'A payload (workflow input, signal or update event, activity output) is larger than the server\'s per-payload limit (2 MiB by default).',
    fix: 'Keep large data out of workflows: store it elsewhere (a blob store, a database) and pass a reference.',
  },
  PAYLOAD_TOO_DEEP: {
    meaning: 'A payload (workflow input, signal or update event, activity output) is nested deeper than the server accepts (256 levels of arrays and objects), so it could not be stored and read back.',
    fix: 'Flatten the data: nest less than 256 levels, or pass deep structures as a reference or an encoded string.',
  },
    PAYLOAD_DECODE_FAILED: {
    meaning: 'An encoded value (an envelope) could not be decoded: its data is corrupted or was tampered with, or it was not encrypted with the key its envelope names.',
    fix: 'Check that every client and worker has the same key material under each key id. Retrying does not help: the stored bytes do not change.',
  },
  PAYLOAD_KEY_UNKNOWN: {
    meaning: 'An encoded value names a key id the payload codec does not have (often: a key rotated in on some processes and not yet on this one).',
    fix: 'Give the codec that key: after a rotation keep old keys in `keys` for as long as values encrypted with them may be read.',
  },
  PAYLOAD_CODEC_UNKNOWN: {
    meaning: 'An encoded value names a codec other than the one this client or worker was given.',
    fix: 'Give this process the codec named in the error (payloadCodec.codec with that name).',
  },
  PAYLOAD_ENCODE_FAILED: {
    meaning: 'A value selected by encodeFields could not be encoded: the codec threw, or the value is not msgpack data.',
    fix: 'Read the cause: a key service may be unreachable (retry), or the value holds something that cannot be sent (a class instance, a function).',
  },
  SCHEDULE_NOT_FOUND: {
    meaning: 'No schedule with that id exists in the namespace.',
    fix: 'Check the namespace and schedule id; list schedules to see what exists.',
  },
  SCHEDULE_ALREADY_EXISTS: {
    meaning: 'A schedule with that id already exists in the namespace.',
    fix: 'Pick another schedule id, update the existing schedule, or delete it first.',
  },
  // The `perdure` command's own codes (the server's pass through it unchanged).
  USAGE: {
    meaning: 'The command line was not valid: an unknown option, a missing argument, bad JSON.',
    fix: 'Read the message and `perdure <command> --help`.',
  },
  SERVER_UNREACHABLE: {
    meaning: 'No Perdure server answered at the address the command was given.',
    fix: 'Start one (`perdure server`), or pass --address (or set PERDURE_ADDRESS).',
  },
  ADDRESS_IN_USE: {
    meaning: 'The server could not listen: its port is taken by another process, or not allowed to this user.',
    fix: 'Stop the other process, or pass --port (0 picks a free one; ports below 1024 need privileges).',
  },
  BAD_RESPONSE: {
    meaning: 'The server answered with something that is not the Perdure HTTP API (not JSON, or an error without a code).',
    fix: 'Check that --address points at a Perdure server of the same version, not a proxy or another service.',
  },
} as const satisfies Record<string, { meaning: string; fix: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Codes carried by failures: the values users catch in machines and clients. */
export const FAILURE_CODES = {
  APPLICATION_FAILURE: {
    meaning: 'User code failed (an activity threw, or a workflow failed with an application error).',
    fix: 'Read the failure\'s type, message and cause; mark errors nonRetryable when retrying cannot help.',
  },
  ACTIVITY_FAILURE: {
    meaning: 'An activity failed after its last attempt; the cause says why.',
    fix: 'Handle `xstate.error.actor.<id>` in the machine (onError) or change the retry policy.',
  },
  TIMEOUT_FAILURE: {
    meaning: 'An activity timed out (start-to-close, schedule-to-start, schedule-to-close or heartbeat).',
    fix: 'Raise the timeout, heartbeat more often, or add workers to the task queue.',
  },
  CANCELLED_FAILURE: {
    meaning: 'The execution or activity was cancelled.',
    fix: 'Nothing to fix: cancellation was requested.',
  },
  TERMINATED_FAILURE: {
    meaning: 'The execution was terminated; the machine did not run any more steps.',
    fix: 'Nothing to fix: termination was requested. Read the reason.',
  },
  CHILD_WORKFLOW_FAILURE: {
    meaning: 'A child workflow failed, was cancelled or terminated, or could not be started; the cause says why.',
    fix: 'Handle `xstate.error.actor.<id>` in the parent machine (onError); read the cause for the child\'s own failure.',
  },
  HISTORY_LIMIT_EXCEEDED: {
    meaning: 'The run\'s history grew past the server\'s limit (events or size), so the server terminated it (see docs/continue-as-new.md for the limits).',
    fix: 'Have the machine continue as new (continueAsNew(input) as its output) before its history grows long: events carry historyLength and historyBytes for that decision.',
  },
} as const satisfies Record<string, { meaning: string; fix: string }>;

export type FailureCode = keyof typeof FAILURE_CODES;
