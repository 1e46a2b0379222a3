import { CodecError } from '../common/codec.ts';
import { ApplicationFailure } from '../common/failures.ts';
import { decodePayloads, encodeFields, PayloadCodecError, type PayloadCodecOptions } from '../common/payload-codec.ts';
import type { ActivityTask } from '../common/worker-protocol.ts';

/**
 * The worker's side of payload encoding: envelopes anywhere in a task's input (and in the
 * previous attempt's heartbeat details) are decoded before the activity runs; the selected
 * top-level fields of its output and of its heartbeat details are encoded before they leave.
 *
 * @example
 * const payloads = new ActivityPayloads({ codec, encodeFields: ['receipt'] });
 * const seen = await payloads.decodeTask(task);      // seen.input.card is the plaintext card
 * await session.complete(task.taskToken, await payloads.encodeOutput(task.activityType, output));
 */
export class ActivityPayloads {
  constructor(private readonly options: PayloadCodecOptions) {}

  /** The task as the activity sees it: input and heartbeat details decoded. */
  async decodeTask(task: ActivityTask): Promise<ActivityTask> {
    const { codec } = this.options;
    const [input, heartbeatDetails] = await Promise.all([decodePayloads(task.input, codec), decodePayloads(task.heartbeatDetails, codec)]);
    if (input === task.input && heartbeatDetails === task.heartbeatDetails) return task;
    const seen = { ...task, input };
    if (heartbeatDetails !== undefined) seen.heartbeatDetails = heartbeatDetails;
    return seen;
  }

  encodeOutput(activityType: string, output: unknown): Promise<unknown> {
    return encodeFields(output, { kind: 'activityOutput', type: activityType }, this.options);
  }

  encodeHeartbeat(activityType: string, details: unknown): Promise<unknown> {
    return encodeFields(details, { kind: 'heartbeatDetails', type: activityType }, this.options);
  }
}

/**
 * What an attempt fails with when a payload could not be encoded or decoded: an
 * `ApplicationFailure` whose `type` is the error's code, so a retry policy's
 * `nonRetryableErrorTypes` can name it.
 *
 * Retryable or not follows whether another attempt, maybe on another worker, can succeed:
 * - PAYLOAD_DECODE_FAILED: no. The stored bytes are corrupted or were made with other key
 *   material; they will not change.
 * - PAYLOAD_KEY_UNKNOWN, PAYLOAD_CODEC_UNKNOWN: yes. This is what a rotation looks like while
 *   the new key reaches some workers before others; the attempt succeeds on a worker that has
 *   it (like a task for an activity a worker lacks).
 * - PAYLOAD_ENCODE_FAILED: yes when the codec threw (a key service may be down), no when the
 *   output itself cannot be encoded.
 * Anything else is returned as it is.
 */
export function payloadFailure(error: unknown): unknown {
  if (!(error instanceof PayloadCodecError)) return error;
  const nonRetryable = error.code === 'PAYLOAD_DECODE_FAILED' || (error.code === 'PAYLOAD_ENCODE_FAILED' && error.cause instanceof CodecError);
  const message = error.message.startsWith(`${error.code}: `) ? error.message.slice(error.code.length + 2) : error.message;
  return ApplicationFailure.create({ message, type: error.code, nonRetryable });
}
