/** The page's engine worker: serves engine requests (see serve.ts), with the page's analyses. */
import { analysisExtension } from './analysis-serve';
import { serveEngine } from './serve';

serveEngine(self as unknown as DedicatedWorkerGlobalScope, analysisExtension);
