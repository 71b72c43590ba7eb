/**
 * One HTTP/1.1 exchange over a Connection: write the request (body streamed alongside),
 * read the response head, and hand the body on as a ReadableStream that pulls from the
 * socket only when its reader asks — so a slow client leaves bytes in the origin's TCP
 * window instead of in this isolate's memory, and each chunk goes on the moment it arrives.
 *
 * One request per connection (the PROXY header names one client per connection, and the
 * relay asks for `Connection: close`): the connection ends with the body.
 */
import type { Connection } from "./connection.ts";
import { writeRequest, type Http1Request } from "./http1-request.ts";
import { Http1ParseError, Http1ResponseParser, type ParseEvent, type ResponseHead } from "./http1-response-parser.ts";

export type { Http1Request } from "./http1-request.ts";

export type Http1Result =
  | {
      readonly kind: "response";
      readonly head: ResponseHead;
      /** Null when the response has no body (HEAD, 204, 304). */
      readonly body: ReadableStream<Uint8Array> | null;
      /** The body's length when the origin declared it (Content-Length framing). */
      readonly length: number | undefined;
    }
  /** 101 Switching Protocols: the connection now belongs to the caller, bytes past the head unread. */
  | { readonly kind: "upgrade"; readonly head: ResponseHead };

export class Http1ExchangeError extends Error {
  override readonly name = "Http1ExchangeError";
}

/**
 * Sends `request` and waits for the response head. Rejects (and closes the connection) when
 * the head is malformed or the connection ends first; body errors surface on the stream.
 */
export async function exchange(connection: Connection, request: Http1Request, maxHeadBytes?: number): Promise<Http1Result> {
  const parser = new Http1ResponseParser({ requestMethod: request.method, ...(maxHeadBytes === undefined ? {} : { maxHeadBytes }) });
  // The body is written while the response is read: an origin may answer before the whole
  // upload (or, for a streaming upload, long before it ends).
  void writeRequest((bytes) => connection.write(bytes), request).catch(() => connection.close());

  const queued: ParseEvent[] = [];
  let head: ResponseHead | undefined;
  try {
    while (head === undefined) {
      const chunk = await connection.source.read();
      const events = chunk === undefined ? parser.finish() : parser.push(chunk);
      for (const event of events) {
        if (event.kind === "head" && head === undefined) head = event.head;
        else queued.push(event);
      }
    }
  } catch (err) {
    connection.close();
    throw err instanceof Http1ParseError ? new Http1ExchangeError(err.message) : err;
  }

  if (head.status === 101) {
    const end = queued.find((e) => e.kind === "end");
    if (end?.kind === "end") connection.source.unread(end.rest);
    return { kind: "upgrade", head };
  }
  if (parser.framing === "none") {
    connection.close();
    return { kind: "response", head, body: null, length: undefined };
  }
  return { kind: "response", head, body: bodyStream(connection, parser, queued), length: parser.contentLength };
}

function bodyStream(connection: Connection, parser: Http1ResponseParser, queued: ParseEvent[]): ReadableStream<Uint8Array> {
  let ended = false;
  const deliver = (events: readonly ParseEvent[], controller: ReadableStreamDefaultController<Uint8Array>): boolean => {
    let delivered = false;
    for (const event of events) {
      if (event.kind === "body" && event.bytes.length > 0) {
        controller.enqueue(event.bytes);
        delivered = true;
      } else if (event.kind === "end") {
        ended = true;
      }
    }
    return delivered;
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          if (deliver(queued.splice(0), controller)) return;
          while (!ended) {
            const chunk = await connection.source.read();
            const events = chunk === undefined ? parser.finish() : parser.push(chunk);
            if (deliver(events, controller)) break;
          }
          if (ended) {
            // Bytes after the end of a one-request connection are the origin's mistake, not ours to relay.
            controller.close();
            connection.close();
          }
        } catch (err) {
          controller.error(err instanceof Http1ParseError ? new Http1ExchangeError(err.message) : err);
          connection.close();
        }
      },
      cancel() {
        connection.close();
      },
    },
    // Nothing is read from the socket until the consumer asks: back-pressure reaches the origin.
    { highWaterMark: 0 },
  );
}
