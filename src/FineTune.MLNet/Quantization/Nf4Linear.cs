using TorchSharp;
using static TorchSharp.torch;

// Buffer fields are named like their state-dict keys (snake_case), as in Models/ and Modules/.
#pragma warning disable IDE1006

namespace FineTune.MLNet.Quantization;

/// <summary>
/// A frozen linear layer whose weight (out_features, in_features) is stored in NF4 with double-quantized scales
/// (<see cref="Nf4Tensor"/>), the QLoRA base layer. <c>forward(x) = linear(x, dequantize(W), bias)</c>, with the
/// weight dequantized on the fly in <c>x</c>'s dtype and freed after the call.
/// </summary>
/// <remarks>
/// Nothing here is trainable: the quantized weight and the optional bias are buffers, so <c>parameters()</c> is
/// empty and an optimizer never sees them; gradients still flow to the input. State-dict keys:
/// <c>weight_nf4_codes</c> (uint8, (ceil(out*in/2))), <c>weight_absmax_q</c> (uint8, (blocks)),
/// <c>weight_absmax_scale</c> (float32, (ceil(blocks/256))), <c>weight_absmax_offset</c> (float32, (1)) and
/// <c>bias</c> (out_features) when present. <c>to(dtype)</c> leaves the storage as it is (the forward pass already
/// follows the input's dtype); <c>to(device)</c> moves it.
/// </remarks>
public sealed class Nf4Linear : nn.Module<Tensor, Tensor>
{
    private Tensor weight_nf4_codes;
    private Tensor weight_absmax_q;
    private Tensor weight_absmax_scale;
    private Tensor weight_absmax_offset;
    private Tensor? bias;

    /// <summary>
    /// An NF4 layer with zeroed storage of the right sizes, to be filled by <c>load_state_dict</c>.
    /// </summary>
    public Nf4Linear(long inFeatures, long outFeatures, bool hasBias = false, Device? device = null)
        : base(nameof(Nf4Linear))
    {
        if (inFeatures <= 0 || outFeatures <= 0)
        {
            throw new ArgumentOutOfRangeException(
                nameof(inFeatures), $"Nf4Linear: inFeatures and outFeatures must be positive, got {inFeatures} and {outFeatures}.");
        }
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        var layout = new Nf4Layout(inFeatures * outFeatures);
        weight_nf4_codes = zeros(layout.PackedByteCount, ScalarType.Byte, device).DetachFromDisposeScope();
        weight_absmax_q = zeros(layout.BlockCount, ScalarType.Byte, device).DetachFromDisposeScope();
        weight_absmax_scale = zeros(layout.ScaleBlockCount, ScalarType.Float32, device).DetachFromDisposeScope();
        weight_absmax_offset = zeros(1, ScalarType.Float32, device).DetachFromDisposeScope();
        bias = hasBias ? zeros(outFeatures, ScalarType.Float32, device).DetachFromDisposeScope() : null;
        RegisterComponents();
    }

    private Nf4Linear(Nf4Tensor weight, Tensor? frozenBias)
        : base(nameof(Nf4Linear))
    {
        OutFeatures = weight.Shape[0];
        InFeatures = weight.Shape[1];
        weight_nf4_codes = weight.PackedCodes;
        weight_absmax_q = weight.AbsmaxCodes;
        weight_absmax_scale = weight.AbsmaxScales;
        weight_absmax_offset = weight.AbsmaxOffset;
        bias = frozenBias;
        RegisterComponents();
    }

    /// <summary>Input width (the weight's second dimension).</summary>
    public long InFeatures { get; }

    /// <summary>Output width (the weight's first dimension).</summary>
    public long OutFeatures { get; }

    /// <summary>Whether the layer adds a (frozen) bias.</summary>
    public bool HasBias => bias is not null;

    /// <summary>Bytes held by the quantized weight (see <see cref="Nf4Tensor.StorageBytes"/>); the bias is not counted.</summary>
    public long WeightStorageBytes => new Nf4Layout(InFeatures * OutFeatures).StorageBytes;

    /// <summary>
    /// Quantizes a float weight (out_features, in_features) to NF4 and keeps a frozen copy of <paramref name="bias"/>
    /// (out_features) if given. The new layer lives on the weight's device; the inputs are not modified or kept.
    /// </summary>
    public static Nf4Linear FromLinearWeight(Tensor weight, Tensor? bias = null)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.dim() != 2)
        {
            throw new ArgumentException(
                $"Nf4Linear.FromLinearWeight: weight must be 2-D (out_features, in_features), got shape [{string.Join(", ", weight.shape)}].",
                nameof(weight));
        }
        if (bias is not null && (bias.dim() != 1 || bias.shape[0] != weight.shape[0]))
        {
            throw new ArgumentException(
                $"Nf4Linear.FromLinearWeight: bias must have shape [{weight.shape[0]}], got [{string.Join(", ", bias.shape)}].",
                nameof(bias));
        }

        var quantized = Nf4Tensor.Quantize(weight); // owned by the layer from here on
        Tensor? frozenBias = null;
        if (bias is not null)
        {
            using var scope = NewDisposeScope();
            frozenBias = bias.detach().to(ScalarType.Float32, weight.device).clone().DetachFromDisposeScope();
        }
        return new Nf4Linear(quantized, frozenBias);
    }

    /// <summary>
    /// The weight dequantized to <paramref name="dtype"/>, shape (out_features, in_features), on the layer's device.
    /// Not part of any autograd graph. The caller owns (disposes) the result.
    /// </summary>
    public Tensor DequantizedWeight(ScalarType dtype = ScalarType.Float32) =>
        Nf4Tensor.Dequantize(
            weight_nf4_codes, weight_absmax_q, weight_absmax_scale, weight_absmax_offset,
            [OutFeatures, InFeatures], dtype);

    /// <summary>Keeps the NF4 storage's own dtypes (uint8 codes, float32 scales and bias) on a dtype change.</summary>
    protected override nn.Module _to(ScalarType dtype, bool non_blocking) => this;

    /// <summary>Moves the storage to <paramref name="device"/> without changing its dtypes.</summary>
    protected override nn.Module _to(Device device, ScalarType dtype, bool non_blocking) =>
        _to(device.type, device.index, non_blocking);

    /// <summary><c>x</c> (..., in_features) to (..., out_features), in <c>x</c>'s dtype.</summary>
    public override Tensor forward(Tensor input)
    {
        if (input.shape[^1] != InFeatures)
        {
            throw new ArgumentException(
                $"Nf4Linear.forward: input's last dimension must be {InFeatures}, got shape [{string.Join(", ", input.shape)}].",
                nameof(input));
        }
        if (input.requires_grad && is_grad_enabled()) return Nf4MatMul.Apply(input, this);   // no float weight kept for the backward
        using var scope = NewDisposeScope();
        var weight = DequantizedWeight(input.dtype); // (out, in)
        return LinearWithBias(input, weight).MoveToOuterDisposeScope(); // (..., out)
    }

    /// <summary><c>x Wᵀ + b</c> for a dequantized <paramref name="weight"/> (out, in).</summary>
    internal Tensor LinearWithBias(Tensor input, Tensor weight)
    {
        using var scope = NewDisposeScope();
        var b = bias?.to(input.dtype); // (out)
        return nn.functional.linear(input, weight, b).MoveToOuterDisposeScope(); // (..., out)
    }
}
