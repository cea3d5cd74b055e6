namespace FineTune.MLNet.ChatTemplates.Jinja;

/// <summary>
/// Jinja's default <c>Undefined</c>: renders as empty, is falsy, iterates as empty and has length 0,
/// but attribute or item access, arithmetic, ordering comparisons and calls on it fail with <see cref="Hint"/>.
/// </summary>
internal sealed class Undefined
{
    public Undefined(string hint) => Hint = hint;

    /// <summary>Why the value is undefined, e.g. <c>'x' is undefined</c> or <c>'dict object' has no attribute 'y'</c>.</summary>
    public string Hint { get; }

    public override string ToString() => "";
}

/// <summary>The object made by <c>namespace(...)</c>: the one value whose attributes <c>{% set ns.x = ... %}</c> may assign.</summary>
internal sealed class Namespace
{
    public OrderedDictionary<string, object?> Attributes { get; } = new();
}

/// <summary>A function callable from a template: globals, macros, <c>loop.cycle</c>.</summary>
internal sealed class JinjaFunction
{
    public JinjaFunction(string name, Func<List<object?>, Dictionary<string, object?>, object?> invoke)
    {
        Name = name;
        Invoke = invoke;
    }

    public string Name { get; }

    public Func<List<object?>, Dictionary<string, object?>, object?> Invoke { get; }
}

/// <summary>The <c>loop</c> variable inside a <c>for</c> body.</summary>
internal sealed class LoopInfo
{
    private readonly IReadOnlyList<object?> _items;

    public LoopInfo(IReadOnlyList<object?> items) => _items = items;

    public int Index0 { get; set; }

    public object? Get(string name) => name switch
    {
        "index0" => (long)Index0,
        "index" => (long)Index0 + 1,
        "revindex" => (long)(_items.Count - Index0),
        "revindex0" => (long)(_items.Count - Index0 - 1),
        "first" => Index0 == 0,
        "last" => Index0 == _items.Count - 1,
        "length" => (long)_items.Count,
        "depth" => 1L,
        "depth0" => 0L,
        "previtem" => Index0 > 0 ? _items[Index0 - 1] : new Undefined("there is no previous item"),
        "nextitem" => Index0 < _items.Count - 1 ? _items[Index0 + 1] : new Undefined("there is no next item"),
        "cycle" => new JinjaFunction("loop.cycle", (args, _) =>
            args.Count == 0 ? throw new ChatTemplateException("loop.cycle() needs at least one argument") : args[Index0 % args.Count]),
        _ => new Undefined($"'LoopContext' object has no attribute '{name}'"),
    };
}

/// <summary>What a statement list returns after <c>{% break %}</c> / <c>{% continue %}</c>, so the enclosing loop can act on it.</summary>
internal enum LoopSignal
{
    None,
    Break,
    Continue,
}
