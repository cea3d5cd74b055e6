using FineTune.MLNet.Autograd;
using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.MLNet.Losses;

/// <summary>
/// Summed cross-entropy of <c>h Wᵀ</c> (the LM head and the loss in one step) computed over chunks of tokens, so the
/// (tokens × vocabulary) float32 logits exist for one chunk at a time and are never kept for the backward (Liger
/// Kernel's fused linear cross-entropy): the forward computes, per chunk, the loss and at once its gradients
/// <c>∂h = (softmax − onehot) W</c> and <c>∂W += (softmax − onehot)ᵀ h</c>; the backward only scales them by the
/// incoming gradient. Logits are float32 (HF's <c>logits.float()</c>), the gradient matmuls run in W's dtype.
/// </summary>
internal sealed class FusedLinearCrossEntropy : autograd.SingleTensorFunction<FusedLinearCrossEntropy>
{
    public override string Name => "FusedLinearCrossEntropy";

    /// <param name="hidden">(N, C) states of the scored positions.</param>
    /// <param name="weight">(V, C) head.</param>
    /// <param name="target">(N) int64 token ids, none ignored.</param>
    /// <param name="chunkTokens">Rows per chunk.</param>
    /// <returns>The summed NLL, a float32 scalar.</returns>
    public static Tensor SumNll(Tensor hidden, Tensor weight, Tensor target, int chunkTokens)
    {
        var wantsGrad = is_grad_enabled() && (hidden.requires_grad || weight.requires_grad);
        if (!wantsGrad) return Chunks(hidden, weight, target, chunkTokens, null, null);
        return apply(hidden, weight, target, new Settings(chunkTokens, hidden.requires_grad, weight.requires_grad));
    }

    private sealed record Settings(int ChunkTokens, bool HiddenGrad, bool WeightGrad);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var (hidden, weight, target, settings) = ((Tensor)vars[0], (Tensor)vars[1], (Tensor)vars[2], (Settings)vars[3]);
        var gradHidden = settings.HiddenGrad ? zeros_like(hidden) : null;                                    // (N, C)
        var gradWeight = settings.WeightGrad ? zeros(weight.shape, dtype: ScalarType.Float32, device: weight.device) : null;   // (V, C)
        var sum = Chunks(hidden, weight, target, settings.ChunkTokens, gradHidden, gradWeight);
        ctx.save_for_backward([gradHidden!, gradWeight?.to(weight.dtype)!]);
        return sum;
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
    {
        var saved = ctx.get_saved_variables();                                  // [∂h, ∂W] of the summed loss
        Tensor? Scaled(Tensor? g) => g is null || g.IsInvalid ? null : g.mul(grad_output.to(g.dtype));
        var grads = new List<Tensor> { Scaled(saved[0])!, Scaled(saved[1])!, null!, null! };
        saved.ForEach(t => t?.Dispose());                                       // unpacked references, not the saved tensors
        return CustomFunctionGradients.Return([grad_output], grads);
    }

    /// <summary>The summed NLL; fills the gradients of the sum when they are given.</summary>
    private static Tensor Chunks(Tensor hidden, Tensor weight, Tensor target, int chunkTokens, Tensor? gradHidden, Tensor? gradWeight)
    {
        using var scope = NewDisposeScope();
        var sum = zeros([], dtype: ScalarType.Float32, device: hidden.device);
        long n = hidden.shape[0];
        for (long start = 0; start < n; start += chunkTokens)
        {
            using var chunkScope = NewDisposeScope();
            var length = Math.Min(chunkTokens, n - start);
            var h = hidden.narrow(0, start, length);                                           // (K, C)
            var t = target.narrow(0, start, length).unsqueeze(1);                              // (K, 1)
            var logits = nn.functional.linear(h, weight).to(ScalarType.Float32);               // (K, V)
            var lse = logits.logsumexp(1, keepdim: true);                                      // (K, 1)
            sum.add_(lse.sub(logits.gather(1, t)).sum());
            if (gradHidden is null && gradWeight is null) continue;
            var g = logits.sub_(lse).exp_();                                                   // (K, V) softmax
            g.scatter_add_(1, t, full([length, 1], -1f, dtype: ScalarType.Float32, device: g.device));   // − onehot
            var gw = g.to(weight.dtype);                                                       // (K, V)
            gradHidden?.narrow(0, start, length).copy_(gw.matmul(weight));                     // (K, C)
            gradWeight?.add_(gw.t().matmul(h).to(ScalarType.Float32));                          // (V, C)
        }
        return sum.MoveToOuterDisposeScope();
    }
}
