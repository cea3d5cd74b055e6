using System.Text.Json;
using FineTune.MLNet.ChatTemplates;
using Xunit;

namespace FineTune.MLNet.Tests.ChatTemplates;

/// <summary>
/// Real model chat templates (Fixtures/chat-templates/*.jinja, the exact tokenizer_config.json strings) rendered
/// against prompts written by hand, character by character, from each template's semantics.
/// </summary>
public class ModelChatTemplateTests
{
    private static readonly ChatMessage System = new("system", "You are a pirate.");
    private static readonly ChatMessage UserHi = new("user", "Hi");
    private static readonly ChatMessage AssistantHello = new("assistant", "Hello!");
    private static readonly ChatMessage UserBye = new("user", "Bye");

    private static ChatTemplate Load(string file) =>
        ChatTemplate.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "chat-templates", file)));

    // ---- Qwen2.5-Instruct (ChatML with a default system prompt) ----

    [Fact]
    public void Qwen25_NoSystem_InsertsDefaultSystemPrompt_AndGenerationPrompt()
    {
        string actual = Load("qwen2.5-instruct.jinja").Render([UserHi], addGenerationPrompt: true, bosToken: null, eosToken: "<|im_end|>");

        Assert.Equal(
            "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n" +
            "<|im_start|>user\nHi<|im_end|>\n" +
            "<|im_start|>assistant\n",
            actual);
    }

    [Fact]
    public void Qwen25_WithSystem_MultiTurn_NoGenerationPrompt()
    {
        string actual = Load("qwen2.5-instruct.jinja").Render(
            [System, UserHi, AssistantHello, UserBye], addGenerationPrompt: false, bosToken: null, eosToken: "<|im_end|>");

        Assert.Equal(
            "<|im_start|>system\nYou are a pirate.<|im_end|>\n" +
            "<|im_start|>user\nHi<|im_end|>\n" +
            "<|im_start|>assistant\nHello!<|im_end|>\n" +
            "<|im_start|>user\nBye<|im_end|>\n",
            actual);
    }

    [Fact]
    public void Qwen25_WithTools_RendersToolsBlockWithPythonJson()
    {
        using var tools = JsonDocument.Parse(
            """[{"type": "function", "function": {"name": "get_weather", "parameters": {"city": "str", "days": 3, "metric": true}}}]""");
        var extra = new Dictionary<string, object?> { ["tools"] = tools.RootElement };

        string actual = Load("qwen2.5-instruct.jinja").Render([UserHi], addGenerationPrompt: true, bosToken: null, eosToken: null, extra);

        Assert.Equal(
            "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.\n\n" +
            "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n" +
            "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n" +
            "{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"parameters\": {\"city\": \"str\", \"days\": 3, \"metric\": true}}}\n" +
            "</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n" +
            "<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n" +
            "<|im_start|>user\nHi<|im_end|>\n" +
            "<|im_start|>assistant\n",
            actual);
    }

    // ---- Llama-2-chat ----

    [Fact]
    public void Llama2_SystemIsFoldedIntoFirstUserTurn()
    {
        string actual = Load("llama-2-chat.jinja").Render([System, UserHi], addGenerationPrompt: true, bosToken: "<s>", eosToken: "</s>");

        Assert.Equal("<s>[INST] <<SYS>>\nYou are a pirate.\n<</SYS>>\n\nHi [/INST]", actual);
    }

    [Fact]
    public void Llama2_MultiTurn_NoSystem_StripsContentAndClosesAssistantWithEos()
    {
        string actual = Load("llama-2-chat.jinja").Render(
            [new ChatMessage("user", "  Hi \n"), AssistantHello, UserBye], addGenerationPrompt: false, bosToken: "<s>", eosToken: "</s>");

        Assert.Equal("<s>[INST] Hi [/INST] Hello! </s><s>[INST] Bye [/INST]", actual);
    }

    [Fact]
    public void Llama2_TwoUserTurnsInARow_RaisesAlternationError()
    {
        var ex = Assert.Throws<ChatTemplateException>(() =>
            Load("llama-2-chat.jinja").Render([UserHi, UserBye], addGenerationPrompt: false, bosToken: "<s>", eosToken: "</s>"));

        Assert.True(ex.IsRaisedByTemplate);
        Assert.Equal("Conversation roles must alternate user/assistant/user/assistant/...", ex.Message);
    }

    // ---- Llama-3-Instruct ----

    [Fact]
    public void Llama3_WithSystem_AndGenerationPrompt()
    {
        string actual = Load("llama-3-instruct.jinja").Render(
            [System, UserHi], addGenerationPrompt: true, bosToken: "<|begin_of_text|>", eosToken: "<|end_of_text|>");

        Assert.Equal(
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are a pirate.<|eot_id|>" +
            "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>" +
            "<|start_header_id|>assistant<|end_header_id|>\n\n",
            actual);
    }

    [Fact]
    public void Llama3_TrimFilterBindsToContentOnly_NoGenerationPrompt()
    {
        // '...<|end_header_id|>\n\n' + message['content'] | trim + '<|eot_id|>': the filter applies to the content alone.
        string actual = Load("llama-3-instruct.jinja").Render(
            [new ChatMessage("user", "\n  Hi  "), new ChatMessage("assistant", "Hello! \n")],
            addGenerationPrompt: false,
            bosToken: "<|begin_of_text|>",
            eosToken: "<|end_of_text|>");

        Assert.Equal(
            "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>" +
            "<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>",
            actual);
    }

    // ---- Mistral-Instruct ----

    [Fact]
    public void MistralV01_MultiTurn()
    {
        string actual = Load("mistral-7b-instruct-v0.1.jinja").Render(
            [UserHi, AssistantHello, UserBye], addGenerationPrompt: false, bosToken: "<s>", eosToken: "</s>");

        Assert.Equal("<s>[INST] Hi [/INST]Hello!</s> [INST] Bye [/INST]", actual);
    }

    [Fact]
    public void MistralV02_MultiTurn_NoSpaceAfterEos()
    {
        string actual = Load("mistral-7b-instruct-v0.2.jinja").Render(
            [UserHi, AssistantHello, UserBye], addGenerationPrompt: true, bosToken: "<s>", eosToken: "</s>");

        Assert.Equal("<s>[INST] Hi [/INST]Hello!</s>[INST] Bye [/INST]", actual);
    }

    [Fact]
    public void Mistral_SystemMessage_RaisesAlternationError()
    {
        var ex = Assert.Throws<ChatTemplateException>(() =>
            Load("mistral-7b-instruct-v0.1.jinja").Render([System, UserHi], addGenerationPrompt: false, bosToken: "<s>", eosToken: "</s>"));

        Assert.True(ex.IsRaisedByTemplate);
        Assert.Equal("Conversation roles must alternate user/assistant/user/assistant/...", ex.Message);
    }

    [Fact]
    public void Mistral_UnknownRoleInAssistantSlot_RaisesRoleError()
    {
        var ex = Assert.Throws<ChatTemplateException>(() =>
            Load("mistral-7b-instruct-v0.2.jinja").Render([UserHi, System], addGenerationPrompt: false, bosToken: "<s>", eosToken: "</s>"));

        Assert.Equal("Only user and assistant roles are supported!", ex.Message);
    }

    // ---- Zephyr / TinyLlama (newline-separated template relying on trim_blocks) ----

    [Fact]
    public void Zephyr_WithSystem_AndGenerationPrompt()
    {
        string actual = Load("zephyr-7b-beta.jinja").Render([System, UserHi], addGenerationPrompt: true, bosToken: "<s>", eosToken: "</s>");

        Assert.Equal("<|system|>\nYou are a pirate.</s>\n<|user|>\nHi</s>\n<|assistant|>\n", actual);
    }

    [Fact]
    public void Zephyr_MultiTurn_NoGenerationPrompt()
    {
        string actual = Load("zephyr-7b-beta.jinja").Render(
            [UserHi, AssistantHello, UserBye], addGenerationPrompt: false, bosToken: "<s>", eosToken: "</s>");

        Assert.Equal("<|user|>\nHi</s>\n<|assistant|>\nHello!</s>\n<|user|>\nBye</s>\n", actual);
    }

    [Fact]
    public void TinyLlama_SingleUserTurn_AndGenerationPrompt()
    {
        string actual = Load("tinyllama-1.1b-chat-v1.0.jinja").Render(
            [new ChatMessage("user", "What is 2+2?")], addGenerationPrompt: true, bosToken: "<s>", eosToken: "</s>");

        Assert.Equal("<|user|>\nWhat is 2+2?</s>\n<|assistant|>\n", actual);
    }

    [Fact]
    public void TinyLlama_UnknownRole_IsSkippedSilently()
    {
        string actual = Load("tinyllama-1.1b-chat-v1.0.jinja").Render(
            [new ChatMessage("tool", "42"), UserHi], addGenerationPrompt: false, bosToken: "<s>", eosToken: "</s>");

        Assert.Equal("<|user|>\nHi</s>\n", actual);
    }
}
