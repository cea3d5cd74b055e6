namespace FineTune.MLNet.ChatTemplates;

/// <summary>
/// Bounds on rendering a chat template, which comes from a downloaded checkpoint and is untrusted code. A template that
/// goes past one fails with a <see cref="ChatTemplateException"/> naming the limit, quickly, instead of looping,
/// recursing or allocating without end. Real templates use a few hundred iterations, depth under 10 and a few
/// kilobytes of output per conversation.
/// </summary>
public sealed record ChatTemplateLimits
{
    /// <summary>The defaults: 100,000 loop iterations, depth 64, 1,000,000 characters, 1 second.</summary>
    public static ChatTemplateLimits Default { get; } = new();

    /// <summary>For-loop iterations in one render, all loops together; also the longest list (<c>range()</c>, <c>*</c>, <c>+</c>) a template may build. At least 1.</summary>
    public int MaxLoopIterations { get; init; } = 100_000;

    /// <summary>Deepest nesting of macro calls, of blocks and expressions in the source, and of list/dict values. 1 to 1,000.</summary>
    public int MaxDepth { get; init; } = 64;

    /// <summary>Longest rendered output, and longest string a template may build, in UTF-16 characters. At least 1.</summary>
    public int MaxOutputChars { get; init; } = 1_000_000;

    /// <summary>Wall-clock time one render may take. Greater than zero.</summary>
    public TimeSpan MaxDuration { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first field out of range.</summary>
    public void Validate()
    {
        if (MaxLoopIterations < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxLoopIterations), MaxLoopIterations, $"{nameof(MaxLoopIterations)} must be >= 1, got {MaxLoopIterations}.");
        if (MaxDepth is < 1 or > 1_000)
            throw new ArgumentOutOfRangeException(nameof(MaxDepth), MaxDepth, $"{nameof(MaxDepth)} must be in [1, 1000], got {MaxDepth}.");
        if (MaxOutputChars < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxOutputChars), MaxOutputChars, $"{nameof(MaxOutputChars)} must be >= 1, got {MaxOutputChars}.");
        if (MaxDuration <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(MaxDuration), MaxDuration, $"{nameof(MaxDuration)} must be > 0, got {MaxDuration}.");
    }
}
