using FineTune.MLNet.Tests.Checkpoints;
using FineTune.MLNet.Tests.Llama;
using Xunit;

namespace FineTune.MLNet.Tests.Cli;

/// <summary>The shared --lora-* options of <c>sft</c> and <c>dpo</c> reject bad values naming the option.</summary>
public sealed class LoraOptionCliTests
{
    [Theory]
    [InlineData("sft", "--lora-rank", "0")]
    [InlineData("sft", "--lora-dropout", "1")]
    [InlineData("dpo", "--lora-alpha", "-1")]
    [InlineData("dpo", "--targets", ",")]
    public void BadLoraOptionExitsTwoNamingIt(string command, string option, string value)
    {
        using var dirTemp = new TempDir("lora-cli");
        var dir = Path.Combine(dirTemp.Path, "lora-cli");
        Directory.CreateDirectory(dir);
        var csv = Path.Combine(dir, "train.csv");
        File.WriteAllText(csv, "p,c,r\nq,yes,no\n");
        string[] columns = command == "sft"
            ? ["--prompt-column", "p", "--response-column", "c"]
            : ["--prompt-column", "p", "--chosen-column", "c", "--rejected-column", "r"];
        var (code, _, stderr) = CliRunner.Run([command, "--model", LlamaFixtures.Dir("gen"), "--train", csv, .. columns, "--output", Path.Combine(dir, "out"), option, value]);
        Assert.Equal(2, code);
        Assert.Contains(option, stderr);
    }
}
