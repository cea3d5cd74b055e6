using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FineTune.MLNet.Cli.Config;

/// <summary>
/// <c>--config FILE</c> for every command, implemented once: before System.CommandLine parses, the file's keys (flag
/// names without dashes: <c>"epochs": 3</c>, <c>"lora-rank": 8</c>) become argument tokens for the options not already on
/// the command line, so flags override the file and the command's own parsing and validation apply unchanged. A run
/// folder's <c>config.json</c> is read through its <c>command_line</c> section (whose command must match). Unknown keys
/// and values of the wrong JSON type are errors naming the key, the command and the expected type.
/// </summary>
internal static class ConfigFileArguments
{
    public const string OptionName = "--config";

    /// <summary>Adds <c>--config</c> to every command that has an action.</summary>
    public static void AddTo(Command command)
    {
        foreach (var sub in command.Subcommands) AddTo(sub);
        if (command.Action is not null && command.Options.All(o => o.Name != OptionName))
            command.Options.Add(new Option<FileInfo?>(OptionName) { Description = "JSON or YAML file of this command's options by flag name (\"epochs\": 3); flags given here override it. A run folder's config.json repeats that run." });
    }

    /// <summary>The arguments with the config file's options appended (unchanged when there is no <c>--config</c>).</summary>
    public static string[] Expand(RootCommand root, string[] args)
    {
        var (command, path, start) = Locate(root, args);
        var at = Array.FindIndex(args, start, a => a == OptionName || a.StartsWith(OptionName + "=", StringComparison.Ordinal));
        if (at < 0) return args;
        var file = args[at].Length > OptionName.Length ? args[at][(OptionName.Length + 1)..] : at + 1 < args.Length ? args[at + 1] : throw new ConfigFileException($"{OptionName} needs a file name.");
        var fileRoot = ConfigFileReader.Read(file);
        var values = Arguments(fileRoot, file, path);
        var given = new HashSet<string>(args.Skip(start).Select(a => a.Split('=', 2)[0]), StringComparer.Ordinal);
        if (fileRoot["command_line"] is JsonObject) RequireNewRunFolders(values, given, file);
        var tokens = new List<string>(args);
        foreach (var (key, value) in values)
        {
            var option = command.Options.FirstOrDefault(o => o.Name == "--" + key || o.Aliases.Contains("--" + key));
            if (option is null || option.Name == OptionName)
            {
                var known = command.Options.Where(o => o.Name.StartsWith("--", StringComparison.Ordinal) && o.Name != OptionName && o.Name != "--help").Select(o => o.Name[2..]);
                throw new ConfigFileException($"{file}: unknown key '{key}' for command '{path}' (known: {string.Join(", ", known)}).");
            }
            if (given.Contains(option.Name) || option.Aliases.Any(given.Contains) || value is null) continue;
            tokens.Add(option.Name);
            tokens.AddRange(Tokens(value, option, key, file, path));
        }
        return [.. tokens];
    }

    /// <summary>The command the arguments name (its path, e.g. "import gguf") and where its options start.</summary>
    private static (Command Command, string Path, int Start) Locate(RootCommand root, string[] args)
    {
        Command command = root;
        var names = new List<string>();
        var i = 0;
        for (; i < args.Length; i++)
        {
            var next = command.Subcommands.FirstOrDefault(c => c.Name == args[i] || c.Aliases.Contains(args[i]));
            if (next is null) break;
            command = next;
            names.Add(next.Name);
        }
        return (command, string.Join(' ', names), i);
    }

    /// <summary>The option values of a config file: the object itself, or the <c>command_line.arguments</c> of a run folder's config.json.</summary>
    private static JsonObject Arguments(JsonObject root, string file, string command)
    {
        if (root["command_line"] is not JsonObject line) return root;
        var recorded = line["command"]?.GetValue<string>();
        if (recorded != command)
            throw new ConfigFileException($"{file}: this run folder's config.json was written by 'finetune {recorded}', not 'finetune {command}'.");
        return line["arguments"] as JsonObject ?? throw new ConfigFileException($"{file}: command_line has no 'arguments' object.");
    }

    /// <summary>
    /// A run folder's config.json repeats its run into a new folder: its <c>--output</c> is the recorded run itself (which
    /// the repeat would overwrite) and its <c>--checkpoint-dir</c> holds the recorded run's checkpoints (which the repeat
    /// would resume instead of training), so both must be given anew on the command line.
    /// </summary>
    private static void RequireNewRunFolders(JsonObject values, HashSet<string> given, string file)
    {
        foreach (var key in new[] { "output", "checkpoint-dir" })
        {
            if (given.Contains("--" + key) || values[key] is not JsonValue recorded || recorded.GetValueKind() != JsonValueKind.String) continue;
            var what = key == "output" ? "the recorded run's own folder, which a repeat would overwrite" : "the recorded run's checkpoints, which a repeat would resume instead of training";
            throw new ConfigFileException($"{file}: this run folder's config.json names --{key} '{recorded.GetValue<string>()}', {what}; give --{key} NEW_FOLDER to repeat the run.");
        }
    }

    private static IEnumerable<string> Tokens(JsonNode value, Option option, string key, string file, string command)
    {
        var type = Nullable.GetUnderlyingType(option.ValueType) ?? option.ValueType;
        if (type.IsArray)
        {
            var element = type.GetElementType()!;
            var items = value as JsonArray ?? throw Wrong(key, file, command, $"a list of {Describe(element)}", value);
            return items.Select(item => Scalar(item ?? throw Wrong(key, file, command, Describe(element), null), element, key, file, command)).ToList();
        }
        return [Scalar(value, type, key, file, command)];
    }

    private static string Scalar(JsonNode value, Type type, string key, string file, string command)
    {
        var kind = value.GetValueKind();
        var expected = Describe(type);
        if (type == typeof(bool))
            return kind is JsonValueKind.True or JsonValueKind.False ? (kind == JsonValueKind.True ? "true" : "false") : throw Wrong(key, file, command, expected, value);
        if (type == typeof(int) || type == typeof(long))
        {
            if (kind == JsonValueKind.Number && long.TryParse(value.ToJsonString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n)) return n.ToString(CultureInfo.InvariantCulture);
            throw Wrong(key, file, command, expected, value);
        }
        if (type == typeof(double) || type == typeof(float))
            return kind == JsonValueKind.Number ? value.GetValue<double>().ToString("R", CultureInfo.InvariantCulture) : throw Wrong(key, file, command, expected, value);
        return kind == JsonValueKind.String ? value.GetValue<string>() : throw Wrong(key, file, command, expected, value);
    }

    private static string Describe(Type type) =>
        type == typeof(bool) ? "true or false" :
        type == typeof(int) || type == typeof(long) ? "an integer" :
        type == typeof(double) || type == typeof(float) ? "a number" :
        type == typeof(FileInfo) ? "a file path (string)" :
        type == typeof(DirectoryInfo) ? "a folder path (string)" : "a string";

    private static ConfigFileException Wrong(string key, string file, string command, string expected, JsonNode? value) =>
        new($"{file}: key '{key}' of command '{command}' must be {expected} (got {value?.ToJsonString() ?? "null"}).");
}
