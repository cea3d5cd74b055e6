using static TorchSharp.torch;

namespace FineTune.MLNet.Autograd;

/// <summary>
/// Hands a TorchSharp custom autograd function's gradients back to the engine without keeping them alive. TorchSharp
/// 0.107 calls <c>backward</c> with new C# wrappers of the incoming gradients and never disposes them, and the wrappers
/// of the gradients <c>backward</c> returns stay with whatever dispose scope surrounds <c>loss.backward()</c>; each
/// wrapper holds a reference, so every custom node's incoming and outgoing gradients lived until the backward ended
/// (libtorch's own nodes free theirs as the engine moves on). Measured before and after (peak RSS of a step): QLoRA on
/// tinystories-260k at 1,280 tokens (<c>finetune plan</c>) 92.7-93.2 -> 79.7-82.1 MiB, LoRA 75.5-77.2 -> 75.9-78.5 (the
/// fused loss's node is one, at the start of the backward); a 4-layer Llama-2-7B-shaped QLoRA step at 512 tokens without
/// activation checkpointing 4,021 -> 3,891 MiB, checkpointed 2,833 -> 2,845 (<c>benchmarks --scenario llama7b-qlora</c>;
/// there the peak comes early in the backward, while the activations are still alive and few gradients have piled up,
/// so the gain is far below the 78,080 floats per token and layer that a 7B's projections' gradients add up to).
/// <para>
/// <see cref="Return"/> disposes the incoming wrappers (the engine keeps its own references), detaches the returned
/// ones from every dispose scope and disposes those of the previous call on this thread: the native node copies the
/// returned tensors as soon as <c>backward</c> returns, so by the next call the wrappers are only references. At most
/// one call's gradients per thread outlive their use, until the next backward.
/// </para>
/// </summary>
internal static class CustomFunctionGradients
{
    [ThreadStatic] private static List<Tensor>? previous;

    /// <summary>The list to return from <c>backward</c>, after the releases above.</summary>
    /// <param name="incoming">The gradients <c>backward</c> received (disposed here; undefined ones are skipped).</param>
    /// <param name="gradients">One entry per forward input: the gradient or null.</param>
    public static List<Tensor> Return(IEnumerable<Tensor> incoming, List<Tensor> gradients)
    {
        var returned = gradients.Where(g => g is not null && !g.IsInvalid).ToList();
        foreach (var g in returned) g.DetachFromDisposeScope();
        foreach (var g in incoming)
            if (g is not null && !g.IsInvalid && !returned.Any(r => ReferenceEquals(r, g))) g.Dispose();
        if (previous is not null)
            foreach (var g in previous) g.Dispose();
        previous = returned;
        return gradients;
    }
}
