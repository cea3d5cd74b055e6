namespace FineTune.MLNet.Tests.Fuzz;

/// <summary>
/// One parser under fuzz: its valid seed files, how to mutate them, and how to feed one input to the parser.
/// <paramref name="Parse"/> gets the mutated bytes and the name the parser is given for them (a file path or a source
/// name), which every refusal must mention. <paramref name="Mutate"/> is a structure-aware mutation used for half of
/// the inputs (the other half are <see cref="ByteMutator"/> byte mutations).
/// </summary>
internal sealed record FuzzTarget(
    string Name,
    IReadOnlyList<byte[]> Seeds,
    Action<byte[]> Parse,
    string NamedAs,
    Func<byte[], Random, byte[]>? Mutate = null)
{
    /// <summary>The refusals that count as handled: <see cref="FuzzContract.IsDocumentedRefusal"/> unless overridden.</summary>
    public Func<Exception, bool> IsRefusal { get; init; } = FuzzContract.IsDocumentedRefusal;
}
