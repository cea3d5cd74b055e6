using TorchSharp;
using static TorchSharp.torch;

using FineTune.MLNet.Autograd;

namespace FineTune.MLNet.Modules;

/// <summary>
/// Activation (gradient) checkpointing of one block, PyTorch's reentrant <c>torch.utils.checkpoint</c> (what HF
/// <c>gradient_checkpointing_enable()</c> wraps around each decoder layer): the forward runs without autograd, so none of
/// the block's intermediate activations are kept, only its inputs; the backward runs the block again with autograd on,
/// from the saved input and with the CPU random generator replayed (dropout draws the same masks), back-propagates the
/// incoming gradient through the recomputed graph (parameters of the block accumulate their <c>.grad</c> there) and
/// returns the gradient of the input. Gradients equal the plain ones (rounding aside); the cost is one extra block forward.
/// </summary>
/// <remarks>
/// As with PyTorch's reentrant variant, the input must require a gradient for the backward to run at all (when only
/// adapters train, the caller marks the embedding output, as HF's <c>enable_input_require_grads</c>). The constant
/// tensors (masks, rotary tables) are saved with the input and receive no gradient. Only the CPU generator is replayed.
/// </remarks>
public static class ActivationCheckpoint
{
    /// <summary>Runs <paramref name="block"/>(<paramref name="x"/>, <paramref name="constants"/>) checkpointed.</summary>
    /// <param name="block">The block; it must not change state between the forward and the backward (no KV cache).</param>
    /// <param name="x">The block input; the output's gradient flows back to it.</param>
    /// <param name="constants">Other tensor inputs (no gradient), kept alive until the backward.</param>
    public static Tensor Apply(Func<Tensor, Tensor[], Tensor> block, Tensor x, params Tensor[] constants)
    {
        ArgumentNullException.ThrowIfNull(block);
        ArgumentNullException.ThrowIfNull(x);
        using var scope = NewDisposeScope();
        object[] vars = [x, .. constants, new Recipe(block, constants.Length)];
        return CheckpointFunction.apply(vars).MoveToOuterDisposeScope();
    }

    private sealed record Recipe(Func<Tensor, Tensor[], Tensor> Block, int ConstantCount);

    /// <summary>TorchSharp's custom autograd node; one static instance serves every call, state travels in the context.</summary>
    private sealed class CheckpointFunction : autograd.SingleTensorFunction<CheckpointFunction>
    {
        public override string Name => "ActivationCheckpoint";

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var recipe = (Recipe)vars[^1];
            var inputs = vars[..^1].Cast<Tensor>().ToList();                      // [x, constants...]
            ctx.save_for_backward(inputs);
            ctx.save_data("recipe", recipe);
            ctx.save_data("rng", RngBytes());                                     // before the block draws dropout masks
            var x = inputs[0];
            var constants = inputs.Skip(1).ToArray();
            return recipe.Block(x, constants);                                    // autograd is off here (apply's no-grad)
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
        {
            var recipe = (Recipe)ctx.get_data("recipe");
            var rng = (byte[])ctx.get_data("rng");
            Tensor? gradX;
            using (var scope = NewDisposeScope())
            {
                var saved = ctx.get_saved_variables();                            // [x, constants...]: wrappers freed with the scope
                var x = saved[0].detach().requires_grad_(true);                   // a leaf: the recomputed graph ends here
                var constants = saved.Skip(1).ToArray();
                using var restore = random.get_rng_state();
                random.set_rng_state(FromBytes(rng));
                Tensor y;
                try
                {
                    using (enable_grad()) y = recipe.Block(x, constants);
                }
                finally
                {
                    random.set_rng_state(restore);                                // the outer stream continues where it was
                }
                autograd.backward([y], [grad_output]);                            // accumulates the block's parameter grads
                gradX = x.grad?.MoveToOuterDisposeScope();
            }
            var grads = new List<Tensor> { gradX! };
            for (var i = 0; i < recipe.ConstantCount + 1; i++) grads.Add(null!);  // constants and the recipe: no gradient
            return CustomFunctionGradients.Return([grad_output], grads);
        }

        private static byte[] RngBytes()
        {
            using var state = random.get_rng_state();
            return state.data<byte>().ToArray();
        }

        private static Tensor FromBytes(byte[] bytes) => tensor(bytes, dtype: ScalarType.Byte);
    }
}
