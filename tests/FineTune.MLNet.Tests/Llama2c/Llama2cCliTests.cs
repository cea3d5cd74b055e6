using System.Text;
using System.Text.Json;
using FineTune.MLNet.Tests.Checkpoints;
using FineTune.MLNet.Tests.Cli;
using Xunit;

namespace FineTune.MLNet.Tests.Llama2c;

/// <summary>
/// <c>finetune import llama2c</c>, <c>generate --json</c> and <c>perplexity</c> as a user runs them, on files written from
/// the bundled weights and on the bundled model by name; perplexities against llama2c.py --nll (perplexity-golden.json).
/// </summary>
public sealed class Llama2cCliTests
{
    private static JsonElement PerplexityGolden(string set) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(Llama2cFixtures.Dir, "perplexity-golden.json"))).RootElement.GetProperty(set);

    [Fact]
    public void Import_a_v1_file_then_generate_json_gives_the_published_ids()
    {
        using var dir = new TempDir();
        var checkpoint = Llama2cFixtures.Write(dir.Path, "v1.bin");
        var hf = dir.File("hf");
        var (code, stdout, stderr) = CliRunner.Run("import", "llama2c", "--checkpoint", checkpoint, "--tokenizer", Llama2cFixtures.Tokenizer, "--output", hf);
        Assert.True(code == 0, stderr);
        Assert.Contains("llama2.c v1, 5 layers, dim 64", stdout);
        Assert.Contains("260,032 parameters", stdout);
        (code, stdout, stderr) = CliRunner.Run("generate", "--model", hf, "--raw", "--prompt", "", "--max-new-tokens", "40", "--json");
        Assert.True(code == 0, stderr);
        var json = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal([1], json.GetProperty("prompt_ids").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(Llama2cShared.GreedyIds[1..], json.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(Llama2cShared.GreedyText, json.GetProperty("text").GetString());
    }

    [Fact]
    public void Generate_by_name_keeps_the_human_form_as_default()
    {
        var (code, stdout, stderr) = CliRunner.Run("generate", "--model", "tinystories-260k", "--raw", "--prompt", "Once upon a time", "--max-new-tokens", "12");
        Assert.True(code == 0, stderr);
        Assert.StartsWith(", there was a little girl named Lily", stdout);
    }

    [Fact]
    public void Perplexity_of_ten_stories_matches_llama2c_py()
    {
        using var dir = new TempDir();
        var file = dir.File("stories.txt");
        var stories = Llama2cFixtures.TokenizerGolden.GetProperty("stories").EnumerateArray().Select(s => s.GetProperty("text").GetString()!);
        File.WriteAllText(file, string.Concat(stories.Select(s => s + "\n<|endoftext|>\n")), Encoding.UTF8);
        var (code, stdout, stderr) = CliRunner.Run("perplexity", "--model", "tinystories-260k", "--text-file", file);
        Assert.True(code == 0, stderr);
        AssertMatches(PerplexityGolden("first_10_stories"), JsonDocument.Parse(stdout).RootElement);
    }

    [Fact]
    public void Perplexity_of_the_first_30_sample_stories_is_1_2515()
    {
        if (Llama2cShared.Stories is not { } file) return;
        var (code, stdout, stderr) = CliRunner.Run("perplexity", "--model", "tinystories-260k", "--text-file", file, "--max-documents", "30");
        Assert.True(code == 0, stderr);
        AssertMatches(PerplexityGolden("first_30_stories"), JsonDocument.Parse(stdout).RootElement);
    }

    [Theory]
    [InlineData("--separator", "")]
    [InlineData("--max-documents", "0")]
    [InlineData("--max-length", "1")]
    [InlineData("--batch-size", "0")]
    public void Perplexity_bad_values_exit_2_naming_the_option(string option, string value)
    {
        using var dir = new TempDir();
        var file = dir.File("t.txt");
        File.WriteAllText(file, "Once upon a time.");
        var (code, _, stderr) = CliRunner.Run("perplexity", "--model", "tinystories-260k", "--text-file", file, option, value);
        Assert.Equal(2, code);
        Assert.Contains(option, stderr);
        Assert.DoesNotContain("   at ", stderr);
    }

    [Fact]
    public void Missing_files_and_bad_checkpoints_exit_2_naming_them()
    {
        using var dir = new TempDir();
        var (code, _, stderr) = CliRunner.Run("perplexity", "--model", "tinystories-260k", "--text-file", dir.File("none.txt"));
        Assert.Equal(2, code);
        Assert.Contains("--text-file", stderr);
        (code, _, stderr) = CliRunner.Run("perplexity", "--model", dir.File("no-model"), "--text-file", Llama2cFixtures.Tokenizer);
        Assert.Equal(2, code);
        Assert.Contains("--model", stderr);
        Assert.Contains("tinystories-260k", stderr);
        var bad = dir.File("bad.bin");
        File.WriteAllBytes(bad, new byte[100]);
        (code, _, stderr) = CliRunner.Run("import", "llama2c", "--checkpoint", bad, "--tokenizer", Llama2cFixtures.Tokenizer, "--output", dir.File("o"));
        Assert.Equal(2, code);
        Assert.Contains(bad, stderr);
        Assert.Contains("magic", stderr);
        (code, _, stderr) = CliRunner.Run("import", "llama2c", "--checkpoint", dir.File("none.bin"), "--tokenizer", Llama2cFixtures.Tokenizer, "--output", dir.File("o"));
        Assert.Equal(2, code);
        Assert.Contains("--checkpoint", stderr);
        Assert.DoesNotContain("   at ", stderr);
    }

    private static void AssertMatches(JsonElement want, JsonElement got)
    {
        Assert.Equal(want.GetProperty("stories").GetInt32(), got.GetProperty("documents").GetInt32());
        Assert.Equal(want.GetProperty("tokens").GetInt64(), got.GetProperty("tokens").GetInt64());
        double nll = got.GetProperty("mean_nll").GetDouble();
        Assert.True(Math.Abs(nll - want.GetProperty("mean_nll").GetDouble()) <= 1e-5, $"mean_nll {nll} vs llama2c.py {want.GetProperty("mean_nll").GetDouble()}");
        Assert.True(Math.Abs(got.GetProperty("perplexity").GetDouble() - Math.Exp(nll)) <= 1e-9);
    }
}
