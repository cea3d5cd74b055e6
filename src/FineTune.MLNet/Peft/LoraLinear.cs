using FineTune.MLNet.Modules;
using FineTune.MLNet.Quantization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FineTune.MLNet.Peft;

/// <summary>
/// A linear layer with a frozen base weight and an optional trainable low-rank adapter, numerically as PEFT's
/// <c>lora.Linear</c>: <c>y = x Wᵀ + b + dropout(x) Aᵀ Bᵀ · scaling</c>, A Kaiming-uniform(a=√5), B zeros.
/// Fields carry checkpoint names: the base loads from <c>…query.weight</c>, the adapter is
/// <c>…query.lora_A.weight</c> / <c>…query.lora_B.weight</c>, PEFT's key names without the adapter name.
/// Without adapter settings it is a plain (trainable) linear layer. With <c>quantizeBase</c> (QLoRA) the frozen base
/// weight lives in <c>base_layer</c> as 4-bit NF4 (<see cref="Nf4Linear"/>, dequantized on the fly) instead of
/// <c>weight</c>; the adapter stays in full precision.
/// </summary>
public sealed class LoraLinear : nn.Module<Tensor, Tensor>
{
    private readonly Parameter? weight;      // (out, in); null when the base is quantized
    private readonly Nf4Linear? base_layer;  // QLoRA: NF4 base weight (out, in)
    private readonly Parameter? bias;        // (out)
    private readonly Linear? lora_A;         // (r, in)
    private readonly Linear? lora_B;         // (out, r)
    private readonly double scaling;
    private readonly double _dropoutP;        // PEFT lora_dropout's p, applied by MaskDropout

    public LoraLinear(string name, long inFeatures, long outFeatures, bool hasBias, LoraSettings? lora, bool quantizeBase = false)
        : base(name)
    {
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        using (var init = nn.Linear(inFeatures, outFeatures, hasBias))
        {
            if (quantizeBase) base_layer = new Nf4Linear(inFeatures, outFeatures, hasBias: false);   // filled by LoadBaseWeight
            else weight = new Parameter(init.weight!.detach().clone());
            bias = hasBias ? new Parameter(init.bias!.detach().clone(), requires_grad: !quantizeBase) : null;
        }
        if (lora is not null)
        {
            lora.Validate();
            lora_A = nn.Linear(inFeatures, lora.Rank, hasBias: false);
            lora_B = nn.Linear(lora.Rank, outFeatures, hasBias: false);
            using (no_grad())
            {
                nn.init.kaiming_uniform_(lora_A.weight!, a: Math.Sqrt(5));
                nn.init.zeros_(lora_B.weight!);
            }
            _dropoutP = lora.Dropout;
            scaling = lora.Scaling;
            if (weight is not null) weight.requires_grad = false;
            if (bias is not null) bias.requires_grad = false;
        }
        RegisterComponents();
    }

    public long InFeatures { get; }
    public long OutFeatures { get; }

    /// <summary>Adapter rank r, or 0 without an adapter.</summary>
    public int Rank => lora_A is null ? 0 : (int)lora_A.weight!.shape[0];

    /// <summary>The scale applied to the adapter's output (alpha / r, or alpha / √r with rsLoRA); 0 without an adapter.</summary>
    public double Scaling => lora_A is null ? 0 : scaling;

    /// <summary>True when this layer carries an adapter.</summary>
    public bool HasAdapter => lora_A is not null;

    /// <summary>When true the adapter is bypassed and the layer computes the base model exactly.</summary>
    public bool AdapterDisabled { get; set; }

    /// <summary>True while the adapter is folded into <c>weight</c>.</summary>
    public bool Merged { get; private set; }

    /// <summary>True when the frozen base weight is stored as NF4 (QLoRA).</summary>
    public bool IsQuantized => base_layer is not null;

    /// <summary>The float base weight (out, in); not available for a quantized base (see <see cref="BaseWeight"/>).</summary>
    public Parameter Weight => weight ?? throw new InvalidOperationException($"Layer '{GetName()}' stores its base weight as NF4; use BaseWeight() for a dequantized copy.");
    public Parameter? Bias => bias;

    /// <summary>Bytes the base weight occupies (NF4 storage for QLoRA, else the float tensor).</summary>
    public long BaseWeightBytes => base_layer?.WeightStorageBytes ?? weight!.numel() * weight.element_size();

    /// <summary>The base weight (out, in) as a float tensor: dequantized for QLoRA, a detached alias otherwise.</summary>
    public Tensor BaseWeight() => base_layer is not null ? base_layer.DequantizedWeight() : weight!.detach().alias();

    /// <summary>Sets the frozen base weight from a float checkpoint tensor (out, in); quantizes it for QLoRA.</summary>
    public void LoadBaseWeight(Tensor value)
    {
        if (value.shape.Length != 2 || value.shape[0] != OutFeatures || value.shape[1] != InFeatures)
            throw new InvalidDataException($"Layer '{GetName()}' expects a weight of shape [{OutFeatures}, {InFeatures}], got [{string.Join(", ", value.shape)}].");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        if (base_layer is null) { weight!.copy_(value); return; }
        using var quantized = Nf4Linear.FromLinearWeight(value.to(ScalarType.Float32));
        StateDictLoader.LoadInto(base_layer, quantized.state_dict(), strict: true);
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = base_layer is not null ? base_layer.forward(x) : nn.functional.linear(x, weight!, bias);   // (..., out)
        if (base_layer is not null && bias is not null) y = y.add_(bias);
        if (lora_A is not null && !Merged && !AdapterDisabled)
        {
            var update = lora_B!.forward(lora_A.forward(MaskDropout.Apply(x, _dropoutP, training)));   // (..., out)
            y = y.add_(update, alpha: scaling);
        }
        else if (Merged && AdapterDisabled)
        {
            throw new InvalidOperationException($"LoRA layer '{GetName()}' is merged; unmerge it before disabling the adapter.");
        }
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>ΔW = B·A·scaling, shape (out, in), detached.</summary>
    public Tensor DeltaWeight()
    {
        if (lora_A is null) throw new InvalidOperationException($"Layer '{GetName()}' has no LoRA adapter.");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var delta = matmul(lora_B!.weight!, lora_A.weight!).mul_(scaling);  // (out, in)
        return delta.MoveToOuterDisposeScope();
    }

    /// <summary>Folds the adapter into the base weight (PEFT <c>merge(safe_merge=True)</c>: refuses non-finite results).</summary>
    public void Merge()
    {
        if (lora_A is null || Merged) return;
        if (weight is null)
            throw new InvalidOperationException($"Layer '{GetName()}' has an NF4 base: a QLoRA adapter is merged by dequantizing first, e.g. LlamaCheckpointWriter.SaveMerged, not in place.");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var merged = weight.add(DeltaWeight().to(weight.dtype));
        if (!merged.isfinite().all().item<bool>())
            throw new InvalidOperationException($"Merging the LoRA adapter of '{GetName()}' produced non-finite weights.");
        weight.copy_(merged);
        Merged = true;
    }

    /// <summary>Subtracts the adapter from the base weight again.</summary>
    public void Unmerge()
    {
        if (!Merged) return;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        weight!.sub_(DeltaWeight().to(weight.dtype));
        Merged = false;
    }
}
