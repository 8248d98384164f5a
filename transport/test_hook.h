// TestHook: named points inside a connection where a test can park the
// thread that reaches them, to force an interleaving instead of hoping for
// it, like Go's testHookXxx variables. Production code leaves the hook empty
// and pays one branch per point.
//
// The hook is called synchronously on the thread at the point, with the
// connection's id and the request's sequence number on that connection
// (from 1). It may block; it must not call into the Transport that calls it
// from that thread. It is called from the caller's, reader and writer
// threads at once: it must be thread-safe.
#ifndef H1_TRANSPORT_TEST_HOOK_H_
#define H1_TRANSPORT_TEST_HOOK_H_

#include <cstdint>
#include <functional>

namespace h1 {

enum class HookPoint {
  // Caller: the connection was dialled and its threads started; its first
  // request is not handed over yet (`seq` is 0).
  kConnectionStarted,
  // Caller: the request found every MaxConnsPerHost slot of its host taken
  // and joined the queue (`conn_id` and `seq` are 0).
  kQueuedForSlot,
  // Caller: request `seq` is queued for the reader, and written (on the
  // caller's thread, NetConn::TryWrite) or queued for the writer.
  kRequestHandedOver,
  // Caller: request `seq`'s response header timer ran out; the caller has
  // not yet given up on the response.
  kHeaderTimerFired,
  // Writer: request `seq`'s head and part of its body are written, its last
  // write is next, and the writer has not yet looked for an early answer.
  kBeforeLastWrite,
  // Writer: request `seq`'s head (with "Expect: 100-continue") is written;
  // the writer is about to wait for 100 Continue.
  kAwaitingContinue,
  // Writer (or the caller, for a request it wrote itself): request `seq`'s
  // write result is on writeErrCh; the writer has not yet taken the next
  // request.
  kWriterReported,
  // Reader: request `seq`'s response ended while the writer was in its last
  // write; the reuse decision now waits for the writer's report.
  kReuseAwaitsWriter,
  // Reader: the connection went back to the idle pool after request `seq`'s
  // response, which is not yet delivered to its caller. Or the caller, at
  // the end of a body it read: the connection is back in the pool, and the
  // last read of the body has not returned.
  kPooledBeforeDelivery,
  // Reader: the caller ended request `seq`'s exchange at the end of a body
  // it read, and handed the stream back; the reader is about to go on.
  kReaderResumesAfterBody,
  // Reader: request `seq`'s exchange is over and the connection kept; the
  // reader is about to watch the socket for the next response (Go's
  // testHookReadLoopBeforeNextRead).
  kReaderBeforeNextRead,
};

using TestHook = std::function<void(HookPoint point, uint64_t conn_id, uint64_t seq)>;

}  // namespace h1

#endif  // H1_TRANSPORT_TEST_HOOK_H_
