using Xunit;

// Training tests assert seeded determinism (e.g. resume == one run), and libtorch's default RNG is process-wide:
// tests running in parallel would draw dropout masks from the same generator. Run them one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
