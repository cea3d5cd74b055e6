namespace FineTune.MLNet.Modules;

/// <summary>What <see cref="StateDictLoader.LoadInto"/> did not match.</summary>
/// <param name="Missing">Module parameters and persistent buffers with no tensor in the state dict (left unchanged).</param>
/// <param name="Unexpected">State-dict tensors with no parameter or buffer of that name in the module (ignored).</param>
/// <param name="Loaded">Number of module tensors that were copied from the state dict.</param>
public sealed record LoadReport(IReadOnlyList<string> Missing, IReadOnlyList<string> Unexpected, int Loaded)
{
    /// <summary>True when every module tensor was loaded and nothing in the state dict was left over.</summary>
    public bool IsExactMatch => Missing.Count == 0 && Unexpected.Count == 0;
}
