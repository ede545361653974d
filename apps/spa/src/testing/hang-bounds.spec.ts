// The hang bounds every spec runs with (hang-bounds.ts): vi.waitFor keeps retrying past its own 1 s
// default.
// Nothing imported from it: the spec must see what angular.json's setupFiles did.

describe('hang bounds of the unit tests', () => {
  it('vi.waitFor retries past its own 1 s default', async () => {
    // Settles only after 1.2 s: with the 1 s default this always fails, with the raised bound it never does.
    const start = Date.now();
    await vi.waitFor(() => {
      if (Date.now() - start < 1_200) throw new Error('not settled yet');
    });
  });
});
