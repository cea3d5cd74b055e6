using FineTune.MLNet.ChatTemplates;

namespace FineTune.MLNet.Training.Tasks.Sft;

/// <summary>
/// Renders a conversation to text split into supervised and context segments: with a chat template exactly as
/// generation renders it, or joined with a separator when there is none.
/// </summary>
internal sealed class ConversationRenderer
{
    private const string AssistantRole = "assistant";
    private readonly ChatTemplate? _template;
    private readonly string? _bosToken;
    private readonly string? _eosToken;
    private readonly string _separator;
    private readonly SupervisedTurns _turns;

    public ConversationRenderer(ChatTemplate? template, string? bosToken, string? eosToken, string separator, SupervisedTurns turns)
    {
        _template = template;
        _bosToken = bosToken;
        _eosToken = eosToken;
        _separator = separator;
        _turns = turns;
    }

    /// <summary>The whole text and its segments (their texts concatenate to it), in order.</summary>
    /// <exception cref="SftDataException">No messages, the last is not an assistant reply, the template failed, or
    /// it is not prefix-stable; the message starts with <paramref name="where"/>.</exception>
    public (string Text, List<TextSegment> Segments) Render(IReadOnlyList<ChatMessage> messages, string where)
    {
        if (messages.Count == 0) throw new SftDataException($"{where}: the conversation has no messages.");
        for (int i = 0; i < messages.Count; i++)
        {
            if (messages[i] is null) throw new SftDataException($"{where}: messages[{i}] is null.");
            if (messages[i].Content is null) throw new SftDataException($"{where}: messages[{i}].content is null.");
        }
        var last = messages[^1];
        if (last.Role != AssistantRole)
            throw new SftDataException($"{where}: the last message must be the response to learn, with role '{AssistantRole}', but messages[{messages.Count - 1}].role is '{last.Role}'.");
        var supervised = _turns == SupervisedTurns.LastAssistant
            ? new[] { messages.Count - 1 }
            : Enumerable.Range(0, messages.Count).Where(i => messages[i].Role == AssistantRole).ToArray();
        return _template is null ? Join(messages, supervised) : RenderWithTemplate(messages, supervised, where);
    }

    private (string, List<TextSegment>) Join(IReadOnlyList<ChatMessage> messages, int[] supervised)
    {
        var segments = new List<TextSegment>();
        var context = new System.Text.StringBuilder();
        for (int i = 0; i < messages.Count; i++)
        {
            if (i > 0) context.Append(_separator);
            if (supervised.Contains(i))
            {
                segments.Add(new TextSegment(context.ToString(), false));
                context.Clear();
                segments.Add(new TextSegment(messages[i].Content, true));
            }
            else
            {
                context.Append(messages[i].Content);
            }
        }
        return (string.Concat(segments.Select(s => s.Text)), segments);
    }

    /// <summary>
    /// For each supervised turn k: its text starts where <c>Render(messages[..k], add_generation_prompt: true)</c>
    /// ends (the prompt generation would see) and ends where <c>Render(messages[..(k+1)], false)</c> ends. Both
    /// must be prefixes of the whole conversation rendered with <c>add_generation_prompt: false</c>.
    /// </summary>
    private (string, List<TextSegment>) RenderWithTemplate(IReadOnlyList<ChatMessage> messages, int[] supervised, string where)
    {
        string full = RenderChecked(messages, false, where);
        var segments = new List<TextSegment>();
        int cursor = 0;
        foreach (int k in supervised)
        {
            string prompt = RenderChecked(messages.Take(k).ToList(), true, where);
            string through = k == messages.Count - 1 ? full : RenderChecked(messages.Take(k + 1).ToList(), false, where);
            CheckPrefix(prompt, full, $"messages[0..{k - 1}] rendered with add_generation_prompt=true", where);
            CheckPrefix(through, full, $"messages[0..{k}] rendered with add_generation_prompt=false", where);
            if (prompt.Length < cursor || through.Length < prompt.Length)
                throw new SftDataException($"{where}: the chat template is not prefix-stable: the prompt before messages[{k}] ends at character {prompt.Length}, "
                    + $"but the text through messages[{k}] ends at {through.Length} and the previous reply at {cursor}.");
            if (string.IsNullOrWhiteSpace(full[prompt.Length..through.Length]) && !string.IsNullOrWhiteSpace(messages[k].Content))
                throw new SftDataException($"{where}: the chat template renders no assistant turn: messages[{k}] (role '{messages[k].Role}', {messages[k].Content.Length} characters) "
                    + $"adds nothing after the prompt (both end at character {through.Length}), so there would be nothing to learn. "
                    + "Use a template that renders assistant messages, or set UseChatTemplate = false.");
            segments.Add(new TextSegment(full[cursor..prompt.Length], false));
            segments.Add(new TextSegment(full[prompt.Length..through.Length], true));
            cursor = through.Length;
        }
        if (cursor < full.Length) segments.Add(new TextSegment(full[cursor..], false));
        return (full, segments);
    }

    private string RenderChecked(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt, string where)
    {
        try
        {
            return _template!.Render(messages, addGenerationPrompt, _bosToken, _eosToken);
        }
        catch (ChatTemplateException ex)
        {
            throw new SftDataException($"{where}: the chat template failed on {messages.Count} message(s) with add_generation_prompt={addGenerationPrompt}: {ex.Message}", ex);
        }
    }

    private static void CheckPrefix(string prefix, string full, string what, string where)
    {
        if (full.StartsWith(prefix, StringComparison.Ordinal)) return;
        int i = 0;
        while (i < prefix.Length && i < full.Length && prefix[i] == full[i]) i++;
        var noReply = i == full.Length
            ? " The whole conversation ends where the prompt goes on, as if the template renders no assistant turn (check its branch for role 'assistant')."
            : "";
        throw new SftDataException(
            $"{where}: the chat template is not prefix-stable: {what} is not a prefix of the whole conversation rendered with add_generation_prompt=false "
            + $"(they differ from character {i}: {Excerpt(prefix, i)} vs {Excerpt(full, i)}), so the prompt cannot be masked as generation would see it.{noReply} "
            + "Use a template that renders earlier turns the same whatever follows, or set UseChatTemplate = false.");
    }

    private static string Excerpt(string text, int at) =>
        at >= text.Length ? "<end of text>" : System.Text.Json.JsonSerializer.Serialize(text.Substring(at, Math.Min(24, text.Length - at)));
}
