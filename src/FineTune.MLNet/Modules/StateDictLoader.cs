using System.Text;
using TorchSharp;
using static TorchSharp.torch;
using FineTune.MLNet.Formats.HuggingFace;

namespace FineTune.MLNet.Modules;

/// <summary>
/// Copies a state dict (name -> tensor, e.g. from <see cref="HfCheckpoint.LoadFolder"/>) into a module's parameters
/// and persistent buffers, by exact name, like PyTorch's <c>load_state_dict</c>.
/// </summary>
public static class StateDictLoader
{
    /// <summary>How many names of each kind an error message lists before summarising.</summary>
    internal const int NamesShown = 20;

    /// <summary>
    /// Copies every state-dict tensor whose name matches a module parameter or persistent buffer into it,
    /// converting dtype and device to the target's. All shapes are checked before anything is copied: a shape
    /// mismatch throws naming the key and both shapes. With <paramref name="strict"/>, any missing or unexpected
    /// key throws (listing them by name) and nothing is copied; otherwise they are returned in the report.
    /// </summary>
    public static LoadReport LoadInto(nn.Module module, IReadOnlyDictionary<string, Tensor> stateDict, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(stateDict);
        var targets = Targets(module);
        var missing = targets.Keys.Where(k => !stateDict.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
        var unexpected = stateDict.Keys.Where(k => !targets.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
        foreach (var (name, target) in targets)
        {
            if (stateDict.TryGetValue(name, out var source) && !source.shape.SequenceEqual(target.shape))
            {
                throw new InvalidOperationException(
                    $"Shape mismatch for '{name}': the module expects {Format(target.shape)}, the state dict has {Format(source.shape)}.");
            }
        }
        if (strict && (missing.Count > 0 || unexpected.Count > 0))
        {
            throw new InvalidOperationException(MismatchMessage(missing, unexpected));
        }
        int loaded = 0;
        using (torch.no_grad())
        {
            foreach (var (name, target) in targets)
            {
                if (stateDict.TryGetValue(name, out var source))
                {
                    target.copy_(source); // converts dtype and device
                    loaded++;
                }
            }
        }
        return new LoadReport(missing, unexpected, loaded);
    }

    /// <summary>
    /// The module's parameters and persistent buffers as detached CPU copies (safe to save or keep after the
    /// module changes). The copies are moved to the caller's dispose scope, if any.
    /// </summary>
    public static Dictionary<string, Tensor> ToStateDict(nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        using var scope = torch.NewDisposeScope();
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, tensor) in Targets(module))
        {
            result[name] = tensor.detach().to(CPU, copy: true);
        }
        scope.MoveToOuter(result.Values);
        return result;
    }

    /// <summary>Parameters and persistent buffers by state-dict name.</summary>
    internal static Dictionary<string, Tensor> Targets(nn.Module module)
    {
        var targets = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, parameter) in module.named_parameters())
        {
            targets[name] = parameter;
        }
        foreach (var (name, buffer) in module.named_buffers(recurse: true, include_nonpersistent: false))
        {
            targets[name] = buffer;
        }
        return targets;
    }

    internal static string MismatchMessage(List<string> missing, List<string> unexpected)
    {
        var message = new StringBuilder("The state dict does not match the module (strict loading).");
        if (missing.Count > 0)
        {
            message.Append($" Missing keys ({missing.Count}, in the module but not the state dict): {List(missing)}.");
        }
        if (unexpected.Count > 0)
        {
            message.Append($" Unexpected keys ({unexpected.Count}, in the state dict but not the module): {List(unexpected)}.");
        }
        return message.ToString();
    }

    private static string List(List<string> names) =>
        string.Join(", ", names.Take(NamesShown).Select(n => $"'{n}'"))
        + (names.Count > NamesShown ? $", ... and {names.Count - NamesShown} more" : "");

    private static string Format(long[] shape) => $"[{string.Join(", ", shape)}]";
}
