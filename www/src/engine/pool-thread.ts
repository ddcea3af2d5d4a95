/**
 * One thread of the threaded engine's pool (threads.ts starts it from the engine worker):
 * instantiates the threaded build on the engine's shared memory, says so, then runs rayon's
 * thread until the engine worker ends.
 */
import { messageOf } from './errors';
import type { PoolThreadReply, PoolThreadStart, ThreadedGlue } from './threads';

const scope = self as unknown as DedicatedWorkerGlobalScope;

scope.addEventListener(
  'message',
  (event: MessageEvent<PoolThreadStart>) => {
    const { glueUrl, module, memory } = event.data;
    void (async () => {
      let glue: ThreadedGlue;
      try {
        glue = (await import(/* @vite-ignore */ glueUrl)) as ThreadedGlue;
        glue.initSync({ module, memory });
      } catch (e) {
        scope.postMessage({ ready: false, error: messageOf(e) } satisfies PoolThreadReply);
        return;
      }
      scope.postMessage({ ready: true } satisfies PoolThreadReply);
      glue.runPoolThread();
    })();
  },
  { once: true },
);
