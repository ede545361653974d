// An opening a test expects to be refused (a store on a Redis that would lose writes, a server
// configured wrongly): if it opens after all, what it opened is closed at once and the test fails
// on the missing refusal. Left open, its connection (ioredis reconnecting, a listening server)
// would keep the test file alive after its tests ended: the failure then showed as a hang until
// the runner's bound, not as the assertion that failed.

/** `opening`, with whatever it opens closed before the promise settles; its refusal passes through unchanged. */
export async function closedIfOpened<T>(opening: Promise<T>, close: (opened: T) => Promise<unknown> | void): Promise<T> {
  const opened = await opening;
  await close(opened);
  return opened;
}
