using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using FineTune.MLNet.Formats;

namespace FineTune.MLNet.Training.Runs;

/// <summary>
/// The run folder's <c>config.json</c>: <c>library</c> (name, version), <c>estimator</c>, <c>options</c> (every option of
/// the estimator's options record, resolved, by its property name in snake_case: <c>learning_rate</c>,
/// <c>lora.rank</c>, ...; callbacks and the cancellation token left out, enums as names), <c>model</c>
/// (<see cref="ModelFingerprint"/>), <c>data</c> (<see cref="DataFingerprint"/> per set) and, for CLI runs,
/// <c>command_line</c> (<c>{"command": "classify", "arguments": {"train": "...", "epochs": 3, ...}}</c>).
/// </summary>
internal static class RunConfigWriter
{
    public const string FileName = "config.json";

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter() },
        TypeInfoResolver = new DefaultJsonTypeInfoResolver { Modifiers = { DropCallbacks } },
    };

    /// <summary>The library's version (the assembly's informational version, without a source-revision suffix).</summary>
    public static string LibraryVersion
    {
        get
        {
            var assembly = typeof(FineTuneInfo).Assembly;
            var version = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? assembly.GetName().Version?.ToString() ?? "unknown";
            var plus = version.IndexOf('+');
            return plus < 0 ? version : version[..plus];
        }
    }

    public static void Write(string directory, string estimator, TrainerOptions options, ModelFingerprint model, IReadOnlyList<DataFingerprint> data, RunCommandLine? commandLine)
    {
        var root = new JsonObject
        {
            ["library"] = new JsonObject { ["name"] = FineTuneInfo.Name, ["version"] = LibraryVersion },
            ["estimator"] = estimator,
            ["options"] = JsonSerializer.SerializeToNode(options, options.GetType(), Json),
            ["model"] = JsonSerializer.SerializeToNode(model, Json),
            ["data"] = JsonSerializer.SerializeToNode(data, Json),
        };
        if (commandLine is not null)
        {
            root["command_line"] = new JsonObject
            {
                ["command"] = commandLine.Command,
                ["arguments"] = JsonSerializer.SerializeToNode(commandLine.Arguments, new JsonSerializerOptions(Json) { DictionaryKeyPolicy = null }),
            };
        }
        AtomicFile.WriteAllText(Path.Combine(directory, FileName), root.ToJsonString(Json) + "\n");
    }

    /// <summary>Progress callbacks, the cancellation token and the run folder itself are not options of what is trained.</summary>
    private static void DropCallbacks(JsonTypeInfo info)
    {
        if (info.Kind != JsonTypeInfoKind.Object) return;
        for (var i = info.Properties.Count - 1; i >= 0; i--)
        {
            var type = info.Properties[i].PropertyType;
            var callback = type == typeof(CancellationToken) || type == typeof(RunFolderSettings)
                || (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IProgress<>));
            if (callback) info.Properties.RemoveAt(i);
        }
    }
}
