using System.Text.Json;
using System.Text.Json.Nodes;
using FineTune.MLNet.Formats.Json;

namespace FineTune.MLNet.Peft;

/// <summary>
/// The subset of PEFT's <c>adapter_config.json</c> (<c>LoraConfig</c>) this library reads and writes: plain LoRA
/// (no DoRA, no <c>lora_bias</c>, no per-module <c>rank_pattern</c>/<c>alpha_pattern</c>, no <c>modules_to_save</c>,
/// <c>bias: "none"</c>, <c>fan_in_fan_out: false</c>). Read with <see cref="FromJsonFile"/>, which rejects the
/// unsupported options naming the field and the file.
/// </summary>
public sealed record PeftAdapterConfig
{
    public const string FileName = "adapter_config.json";

    /// <summary>Always <c>LORA</c>.</summary>
    public string PeftType { get; init; } = "LORA";

    /// <summary>PEFT <c>r</c>.</summary>
    public int R { get; init; } = 8;

    /// <summary>PEFT <c>lora_alpha</c>.</summary>
    public double LoraAlpha { get; init; } = 8;

    /// <summary>PEFT <c>lora_dropout</c>.</summary>
    public double LoraDropout { get; init; }

    /// <summary>Module names (last path component) or the single entry <c>all-linear</c>.</summary>
    public IReadOnlyList<string> TargetModules { get; init; } = [];

    /// <summary>PEFT <c>use_rslora</c>: scaling alpha / √r.</summary>
    public bool UseRsLora { get; init; }

    /// <summary>PEFT <c>task_type</c> (<c>CAUSAL_LM</c>, <c>SEQ_CLS</c>, ...).</summary>
    public string? TaskType { get; init; } = "CAUSAL_LM";

    /// <summary>PEFT <c>base_model_name_or_path</c> (informational).</summary>
    public string? BaseModelNameOrPath { get; init; }

    /// <summary>The equivalent <see cref="LoraSettings"/> for building a model that this adapter loads into.</summary>
    public LoraSettings ToLoraSettings() => new()
    {
        Rank = R,
        Alpha = LoraAlpha,
        Dropout = LoraDropout,
        UseRsLora = UseRsLora,
        TargetModules = TargetModules,
    };

    /// <summary>The adapter config PEFT would write for <paramref name="settings"/> and the adapted module names.</summary>
    public static PeftAdapterConfig FromLoraSettings(LoraSettings settings, IEnumerable<string> targetModules, string? baseModelNameOrPath, string taskType = "CAUSAL_LM") => new()
    {
        R = settings.Rank,
        LoraAlpha = settings.Alpha,
        LoraDropout = settings.Dropout,
        UseRsLora = settings.UseRsLora,
        TargetModules = [.. targetModules.Distinct().Order(StringComparer.Ordinal)],
        BaseModelNameOrPath = baseModelNameOrPath,
        TaskType = taskType,
    };

    /// <summary>PEFT-compatible JSON (keys sorted as PEFT's <c>save_pretrained</c> writes them).</summary>
    public string ToJson()
    {
        var o = new SortedDictionary<string, JsonNode?>(StringComparer.Ordinal)
        {
            ["alpha_pattern"] = new JsonObject(),
            ["auto_mapping"] = null,
            ["base_model_name_or_path"] = BaseModelNameOrPath,
            ["bias"] = "none",
            ["fan_in_fan_out"] = false,
            ["inference_mode"] = true,
            ["init_lora_weights"] = true,
            ["layers_pattern"] = null,
            ["layers_to_transform"] = null,
            ["lora_alpha"] = LoraAlpha,
            ["lora_dropout"] = LoraDropout,
            ["modules_to_save"] = null,
            ["peft_type"] = PeftType,
            ["r"] = R,
            ["rank_pattern"] = new JsonObject(),
            ["revision"] = null,
            ["target_modules"] = new JsonArray([.. TargetModules.Select(t => (JsonNode?)t)]),
            ["task_type"] = TaskType,
            ["use_dora"] = false,
            ["use_rslora"] = UseRsLora,
        };
        var obj = new JsonObject();
        foreach (var (k, v) in o) obj[k] = v;
        return obj.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>Reads and validates <paramref name="path"/>; unsupported options throw <see cref="NotSupportedException"/>.</summary>
    public static PeftAdapterConfig FromJsonFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"Adapter config '{path}' does not exist.", path);
        JsonObject o;
        using (var doc = JsonInput.ParseFile(path, "Adapter config", (problem, inner) => new InvalidDataException($"Adapter config '{path}' {problem}.", inner), JsonInput.MaxConfigFileBytes))
        {
            o = JsonNode.Parse(doc.RootElement.GetRawText()) as JsonObject
                ?? throw new InvalidDataException($"Adapter config '{path}' must hold a JSON object.");
        }
        string? Str(string key) => o[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : o[key] is null ? null
            : throw new InvalidDataException($"Adapter config '{path}': field '{key}' must be a string, got {o[key]!.ToJsonString()}.");
        double? Num(string key) => o[key] is JsonValue v && v.TryGetValue<double>(out var d) ? d : o[key] is null ? null
            : throw new InvalidDataException($"Adapter config '{path}': field '{key}' must be a number, got {o[key]!.ToJsonString()}.");
        bool Flag(string key) => o[key] is JsonValue v && v.TryGetValue<bool>(out var b) ? b : o[key] is null ? false
            : throw new InvalidDataException($"Adapter config '{path}': field '{key}' must be true or false, got {o[key]!.ToJsonString()}.");
        NotSupportedException Unsupported(string key, string what) => new($"Adapter config '{path}': field '{key}' {what}.");

        var peftType = Str("peft_type") ?? throw new InvalidDataException($"Adapter config '{path}': field 'peft_type' is missing (expected \"LORA\").");
        if (peftType != "LORA") throw Unsupported("peft_type", $"is '{peftType}'; only LORA adapters are supported");
        if (Flag("use_dora")) throw Unsupported("use_dora", "is true; DoRA adapters (weight-decomposed LoRA, lora_magnitude_vector) are not supported");
        if (Flag("lora_bias")) throw Unsupported("lora_bias", "is true; LoRA bias terms are not supported");
        if (Flag("fan_in_fan_out")) throw Unsupported("fan_in_fan_out", "is true; only nn.Linear-style (out, in) weights are supported");
        var bias = Str("bias") ?? "none";
        if (bias != "none") throw Unsupported("bias", $"is '{bias}'; only \"none\" is supported (no trained base biases)");
        foreach (var key in new[] { "rank_pattern", "alpha_pattern" })
        {
            if (o[key] is JsonObject p && p.Count > 0) throw Unsupported(key, "is not empty; per-module ranks/alphas are not supported");
        }
        if (o["modules_to_save"] is JsonArray m && m.Count > 0) throw Unsupported("modules_to_save", "is not empty; fully trained extra modules are not supported");
        if (o["layers_to_transform"] is not null) throw Unsupported("layers_to_transform", "is set; adapting only some layers is not supported");
        var r = Num("r") ?? throw new InvalidDataException($"Adapter config '{path}': field 'r' is missing.");
        if (r < 1 || r != Math.Floor(r)) throw new InvalidDataException($"Adapter config '{path}': field 'r' must be a positive integer, got {r}.");
        var alpha = Num("lora_alpha") ?? 8;
        if (!(alpha > 0)) throw new InvalidDataException($"Adapter config '{path}': field 'lora_alpha' must be > 0, got {alpha}.");
        var dropout = Num("lora_dropout") ?? 0;
        if (!(dropout >= 0 && dropout < 1)) throw new InvalidDataException($"Adapter config '{path}': field 'lora_dropout' must be in [0, 1), got {dropout}.");
        IReadOnlyList<string> targets = o["target_modules"] switch
        {
            JsonArray a => [.. a.Select(n => n is JsonValue v && v.TryGetValue<string>(out var s) ? s
                : throw new InvalidDataException($"Adapter config '{path}': field 'target_modules' must list module names."))],
            JsonValue v when v.TryGetValue<string>(out var s) && s == "all-linear" => ["all-linear"],
            JsonValue v when v.TryGetValue<string>(out var s) => throw Unsupported("target_modules",
                $"is the regular expression '{s}'; give a list of module names (e.g. [\"q_proj\", \"v_proj\"]) or \"all-linear\""),
            _ => throw new InvalidDataException($"Adapter config '{path}': field 'target_modules' is missing (expected a list of module names)."),
        };
        if (targets.Count == 0) throw new InvalidDataException($"Adapter config '{path}': field 'target_modules' is empty.");
        return new PeftAdapterConfig
        {
            PeftType = peftType,
            R = (int)r,
            LoraAlpha = alpha,
            LoraDropout = dropout,
            TargetModules = targets,
            UseRsLora = Flag("use_rslora"),
            TaskType = Str("task_type"),
            BaseModelNameOrPath = Str("base_model_name_or_path"),
        };
    }
}
