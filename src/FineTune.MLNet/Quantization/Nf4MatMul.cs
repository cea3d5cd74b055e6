using FineTune.MLNet.Autograd;
using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.MLNet.Quantization;

/// <summary>
/// <c>y = x Wᵀ + b</c> with a frozen NF4 weight that autograd never keeps in float: the forward dequantizes, multiplies
/// and frees the float weight; the backward dequantizes it again for <c>∂x = ∂y W</c> (bitsandbytes' <c>MatMul4Bit</c>).
/// Saved for the backward: nothing but a reference to the layer's NF4 storage, so a 7B QLoRA graph holds no float
/// weights (26 GB otherwise), and the backward keeps no gradient once it has returned (<see cref="CustomFunctionGradients"/>).
/// The result equals <c>linear(x, dequantize(W), b)</c> and its input gradient, bit for bit.
/// </summary>
internal sealed class Nf4MatMul : autograd.SingleTensorFunction<Nf4MatMul>
{
    public override string Name => "Nf4MatMul";

    /// <param name="x">(..., in).</param>
    /// <param name="layer">The quantized layer (storage and bias).</param>
    public static Tensor Apply(Tensor x, Nf4Linear layer) => apply(x, layer);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var x = (Tensor)vars[0];
        var layer = (Nf4Linear)vars[1];
        ctx.save_data("layer", layer);
        using var scope = NewDisposeScope();
        using var weight = layer.DequantizedWeight(x.dtype);                                  // (out, in)
        return layer.LinearWithBias(x, weight).MoveToOuterDisposeScope();                    // (..., out)
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
    {
        var layer = (Nf4Linear)ctx.get_data("layer");
        Tensor gradX;
        using (var scope = NewDisposeScope())
        {
            using var weight = layer.DequantizedWeight(grad_output.dtype);                    // (out, in)
            gradX = grad_output.matmul(weight).MoveToOuterDisposeScope();                     // (..., in)
        }
        return CustomFunctionGradients.Return([grad_output], [gradX, null!]);
    }
}
