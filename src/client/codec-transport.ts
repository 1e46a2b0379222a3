import { decodePayloads, encodeFields, type PayloadCodecOptions } from '../common/payload-codec.ts';
import type { ClientOp } from '../common/wire.ts';
import type { ErrorContext } from './errors.ts';
import type { CallOptions, HandleTransport } from './workflow-handle.ts';

/** The connection a `Client` uses: calls, plus whether it is up, plus closing it. */
export interface ClientTransport extends HandleTransport {
  readonly connected: boolean;
  close(): Promise<void>;
}

/** Answers that carry machine data (outputs, contexts, events), and so may carry envelopes. */
const DECODED_OPS: ReadonlySet<ClientOp> = new Set<ClientOp>(['result', 'query', 'update', 'describe', 'history']);

/**
 * A transport that encodes the selected fields of what a client sends (workflow inputs, events)
 * and decodes every envelope in what it gets back. The client and its handles are unaware of it:
 * the op boundary is the one place that knows which argument is user data.
 *
 * An encoding error rejects the call before anything is sent; a decoding error rejects it after
 * the server answered (an update, for instance, is then recorded: only reading its answer failed).
 *
 * @example
 * const transport = new CodecTransport(await WsTransport.open({ url, namespace }), { codec, encodeFields: ['card'] });
 */
export class CodecTransport implements ClientTransport {
  constructor(private readonly inner: ClientTransport, private readonly options: PayloadCodecOptions) {}

  get connected(): boolean {
    return this.inner.connected;
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  async call(op: ClientOp, args: Record<string, unknown>, context?: ErrorContext, options?: CallOptions): Promise<unknown> {
    const answer = await this.inner.call(op, await this.encodeArgs(op, args), context, options);
    return DECODED_OPS.has(op) ? decodePayloads(answer, this.options.codec) : answer;
  }

  private async encodeArgs(op: ClientOp, args: Record<string, unknown>): Promise<Record<string, unknown>> {
    const sent = { ...args };
    if ((op === 'start' || op === 'signalWithStart') && args.input !== undefined) {
      sent.input = await encodeFields(args.input, { kind: 'workflowInput', type: String(args.type) }, this.options);
    }
    if (op === 'signalWithStart' || op === 'signal' || op === 'update') {
      const type = (args.event as { type?: unknown } | undefined)?.type;
      // An event without a string type is sent as it is: the server refuses it with INVALID_ARGUMENT.
      if (typeof type === 'string') sent.event = await encodeFields(args.event, { kind: 'event', type }, this.options);
    }
    return sent;
  }
}
