namespace FineTune.MLNet.ChatTemplates.Jinja;

/// <summary>
/// A variable frame. Jinja scoping: the template top level is one frame; each <c>for</c> iteration and each
/// macro call gets a fresh child frame, so <c>set</c> inside a loop does not survive the iteration
/// (hence <c>namespace()</c>); <c>if</c> does not open a frame.
/// </summary>
internal sealed class Scope
{
    private readonly Dictionary<string, object?> _variables = new(StringComparer.Ordinal);
    private readonly Scope? _parent;

    public Scope(Scope? parent) => _parent = parent;

    public bool TryGet(string name, out object? value)
    {
        for (Scope? scope = this; scope is not null; scope = scope._parent)
        {
            if (scope._variables.TryGetValue(name, out value))
            {
                return true;
            }
        }

        value = null;
        return false;
    }

    public void Set(string name, object? value) => _variables[name] = value;
}
