using FineTune.MLNet.Tests.Checkpoints;
using Xunit;

namespace FineTune.MLNet.Tests.Cli;

/// <summary><c>--config FILE</c> (JSON or YAML) holds a command's flags; flags on the command line override it; unknown keys are named.</summary>
public sealed class ConfigFileCliTests
{
    [Fact]
    public void JsonAndYamlConfigsEqualTheFlagsAndFlagsOverrideThem()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("c.json"), """{"model": "minilm", "text": "hello world"}""");
        File.WriteAllText(dir.File("c.yaml"), "model: minilm\ntext: a story from yaml\n");
        var flags = CliRunner.Run("encode", "--model", "minilm", "--text", "hello world");
        var json = CliRunner.Run("encode", "--config", dir.File("c.json"));
        Assert.Equal(0, flags.ExitCode);
        Assert.Equal(0, json.ExitCode);
        Assert.Equal(flags.Stdout, json.Stdout);

        var yaml = CliRunner.Run("encode", "--config", dir.File("c.yaml"));
        var yamlFlags = CliRunner.Run("encode", "--model", "minilm", "--text", "a story from yaml");
        Assert.Equal(0, yaml.ExitCode);
        Assert.Equal(yamlFlags.Stdout, yaml.Stdout);
        Assert.NotEqual(flags.Stdout, yaml.Stdout);   // the texts differ, so the outputs must

        var overridden = CliRunner.Run("encode", "--config", dir.File("c.yaml"), "--text", "hello world");
        Assert.Equal(flags.Stdout, overridden.Stdout);
    }

    [Fact]
    public void AnUnknownKeyIsNamedWithTheCommand()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("bad.json"), """{"modle": "minilm"}""");
        var (code, stdout, stderr) = CliRunner.Run("encode", "--config", dir.File("bad.json"));
        Assert.Equal(2, code);
        Assert.Contains("unknown key 'modle' for command 'encode'", stderr);
        Assert.Equal("", stdout);
    }
}
