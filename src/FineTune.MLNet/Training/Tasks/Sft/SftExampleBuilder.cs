using FineTune.MLNet.ChatTemplates;
using FineTune.MLNet.Data;
using FineTune.MLNet.Losses;
using FineTune.MLNet.Tokenization.HuggingFace;
using Microsoft.ML;

namespace FineTune.MLNet.Training.Tasks.Sft;

/// <summary>
/// Turns (prompt, response) pairs or chat conversations into token ids and labels for causal-LM supervised
/// fine-tuning with completion-only loss (TRL <c>SFTTrainer</c> with <c>completion_only_loss</c>, torchtune
/// <c>train_on_input=False</c>).
/// </summary>
/// <remarks>
/// <para><b>With a chat template</b> (the tokenizer's, unless <see cref="SftDataOptions.UseChatTemplate"/> is false):
/// a pair becomes <c>[system?, user: prompt, assistant: response]</c>. The prompt is
/// <c>Render(messages[..^1], add_generation_prompt: true)</c> and the whole text <c>Render(messages, false)</c>,
/// exactly as generation renders them; the prompt must be a prefix of the whole text (otherwise
/// <see cref="SftDataException"/>: the template is not prefix-stable). Prompt tokens get label
/// <see cref="CausalLmLoss.IgnoreIndex"/>, response tokens their ids (see <see cref="SegmentEncoder"/> for the
/// tokenization of the boundary). With <see cref="SupervisedTurns.AllAssistant"/> every assistant turn is
/// supervised, each delimited the same way.</para>
/// <para><b>Without a template</b>: the texts are joined with <see cref="SftDataOptions.Separator"/>; the separator
/// belongs to the prompt.</para>
/// <para><b>BOS</b> is put first when the tokenizer adds it (<c>add_bos_token</c> or its post-processor), unless
/// the rendered text already starts with it (a template that writes <c>{{ bos_token }}</c>). It is never supervised.
/// <b>EOS</b> is appended and supervised when <see cref="SftDataOptions.AppendEos"/> (or the tokenizer's
/// <c>add_eos_token</c>) asks and the text, ignoring trailing whitespace, does not already end with the EOS token:
/// so ChatML's <c>...&lt;|im_end|&gt;\n</c> (EOS = <c>&lt;|im_end|&gt;</c>) gets no second one, and its
/// <c>&lt;|im_end|&gt;</c> and newline are supervised as part of the reply.</para>
/// <para><b>Truncation</b> to <see cref="SftDataOptions.MaxLength"/>: see <see cref="SftTruncation"/>.</para>
/// </remarks>
public sealed class SftExampleBuilder
{
    private readonly HfTokenizer _tokenizer;
    private readonly SftDataOptions _options;
    private readonly ConversationRenderer _renderer;
    private readonly int[] _bosPrefix;
    private readonly int? _appendedEos;
    private readonly string? _eosToken;

    /// <summary>Creates a builder for <paramref name="tokenizer"/>.</summary>
    /// <exception cref="ArgumentException">Invalid options (the message names the field), or an EOS is required but
    /// the tokenizer has none.</exception>
    /// <exception cref="ChatTemplateException">The chat template does not parse.</exception>
    public SftExampleBuilder(HfTokenizer tokenizer, SftDataOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        _options = options ?? new SftDataOptions();
        _options.Validate();
        _tokenizer = tokenizer;

        var affixes = TokenizerAffixes.Of(tokenizer);
        _bosPrefix = affixes.Prefix;
        string? bosToken = tokenizer.BosId is int bos ? tokenizer.Decode([bos]) : null;
        _eosToken = tokenizer.EosId is int eos ? tokenizer.Decode([eos]) : null;
        bool tokenizerAddsEos = tokenizer.EosId is int e && affixes.Suffix.Contains(e);
        if (_options.AppendEos && tokenizer.EosId is null)
            throw new ArgumentException($"{nameof(SftDataOptions.AppendEos)} is true but the tokenizer has no eos_token; set it to false or give the tokenizer an eos_token.", nameof(options));
        _appendedEos = _options.AppendEos || tokenizerAddsEos ? tokenizer.EosId : null;

        string? source = _options.UseChatTemplate ? _options.ChatTemplateOverride ?? tokenizer.ChatTemplate : null;
        var template = source is null ? null : ChatTemplate.Parse(source);
        UsesChatTemplate = template is not null;
        _renderer = new ConversationRenderer(template, bosToken, _eosToken, _options.Separator, _options.SupervisedTurns);
    }

    /// <summary>Whether conversations are rendered with a chat template (else joined with the separator).</summary>
    public bool UsesChatTemplate { get; }

    /// <summary>The options in use.</summary>
    public SftDataOptions Options => _options;

    /// <summary>
    /// The token ids a model is given to answer <paramref name="prompt"/>: exactly the prompt part of a training example
    /// (system prompt, chat template with the generation prompt, BOS), so generation sees what training taught.
    /// </summary>
    public int[] PromptIds(string prompt)
    {
        var example = FromPair(prompt, "", "prompt");
        var firstSupervised = Array.FindIndex(example.Labels, 1, l => l != CausalLmLoss.IgnoreIndex);
        return example.InputIds[..(firstSupervised < 0 ? example.InputIds.Length : firstSupervised)];
    }

    /// <summary>One example from a prompt and the response to learn.</summary>
    public SftExample FromPair(string prompt, string response) => FromPair(prompt, response, "example");

    /// <summary>One example from a conversation whose last message is the assistant reply to learn.</summary>
    /// <exception cref="SftDataException">The conversation is invalid or the template is not prefix-stable.</exception>
    public SftExample FromMessages(IReadOnlyList<ChatMessage> messages) => FromMessages(messages, "example");

    /// <summary>One example from a chat-messages JSON cell (see <see cref="SftConversationJson"/>).</summary>
    /// <exception cref="SftDataException">The cell is malformed; the message names the field.</exception>
    public SftExample FromMessagesJson(string json) => FromMessages(SftConversationJson.Parse(json, "example"), "example");

    /// <summary>All examples of (prompt, response) pairs.</summary>
    /// <exception cref="SftDataException">A row is invalid (named by its index), or no example has a supervised token.</exception>
    public SftDataset BuildFromPairs(IEnumerable<(string Prompt, string Response)> pairs)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        return Collect(pairs.Select((p, row) => FromPair(p.Prompt, p.Response, $"row {row}")));
    }

    /// <summary>All examples of conversations.</summary>
    /// <exception cref="SftDataException">A row is invalid (named by its index), or no example has a supervised token.</exception>
    public SftDataset BuildFromConversations(IEnumerable<IReadOnlyList<ChatMessage>> conversations)
    {
        ArgumentNullException.ThrowIfNull(conversations);
        return Collect(conversations.Select((m, row) => FromMessages(m, $"row {row}")));
    }

    /// <summary>All examples of chat-messages JSON cells.</summary>
    /// <param name="cells">One JSON array of messages per row.</param>
    /// <param name="column">The column name, for errors.</param>
    /// <exception cref="SftDataException">A row is invalid (named by its index, the column and the field), or no example has a supervised token.</exception>
    public SftDataset BuildFromMessagesJson(IEnumerable<string?> cells, string column = "messages")
    {
        ArgumentNullException.ThrowIfNull(cells);
        return Collect(cells.Select((json, row) =>
        {
            string where = $"row {row}, column '{column}'";
            return FromMessages(SftConversationJson.Parse(json, where), where);
        }));
    }

    /// <summary>All examples of a String column of chat-messages JSON cells.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The column is missing or not text.</exception>
    /// <exception cref="SftDataException">A row is invalid (named by its index, the column and the field), or no example has a supervised token.</exception>
    public SftDataset BuildFromDataView(IDataView data, string messagesColumn)
    {
        ArgumentException.ThrowIfNullOrEmpty(messagesColumn);
        return BuildFromMessagesJson(TextColumns.Read(data, messagesColumn).Select(r => r[0]), messagesColumn);
    }

    /// <summary>All examples of a prompt and a response String column.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or not text.</exception>
    /// <exception cref="SftDataException">No example has a supervised token.</exception>
    public SftDataset BuildFromDataView(IDataView data, string promptColumn, string responseColumn)
    {
        ArgumentException.ThrowIfNullOrEmpty(promptColumn);
        ArgumentException.ThrowIfNullOrEmpty(responseColumn);
        return BuildFromPairs(TextColumns.Read(data, promptColumn, responseColumn).Select(r => (r[0], r[1])));
    }

    private SftExample FromPair(string prompt, string response, string where)
    {
        if (prompt is null) throw new SftDataException($"{where}: the prompt is null.");
        if (response is null) throw new SftDataException($"{where}: the response is null.");
        var messages = new List<ChatMessage>(3);
        if (_options.SystemPrompt is not null) messages.Add(new ChatMessage("system", _options.SystemPrompt));
        messages.Add(new ChatMessage("user", prompt));
        messages.Add(new ChatMessage("assistant", response));
        return FromMessages(messages, where);
    }

    private SftExample FromMessages(IReadOnlyList<ChatMessage> messages, string where)
    {
        if (messages is null) throw new SftDataException($"{where}: the conversation is null.");
        var (text, segments) = _renderer.Render(messages, where);
        var encoded = SegmentEncoder.Encode(_tokenizer, segments);
        var (ids, labels) = (encoded.Ids, encoded.Labels);
        int keepStart = encoded.LastSupervisedStart;

        int leading = 0;
        if (_bosPrefix.Length > 0)
        {
            if (!SegmentEncoder.StartsWith(ids, _bosPrefix))
            {
                ids.InsertRange(0, _bosPrefix);
                labels.InsertRange(0, Enumerable.Repeat(CausalLmLoss.IgnoreIndex, _bosPrefix.Length));
                keepStart += _bosPrefix.Length;
            }
            leading = _bosPrefix.Length;
        }
        if (_appendedEos is int eos && !text.TrimEnd().EndsWith(_eosToken!, StringComparison.Ordinal))
        {
            ids.Add(eos);
            labels.Add(eos);
        }

        bool truncated = SftTruncation.Apply(ids, labels, keepStart, leading, _options.MaxLength);
        if (labels.Count > 0) labels[0] = CausalLmLoss.IgnoreIndex;
        return new SftExample(ids.ToArray(), labels.ToArray(), truncated);
    }

    private static SftDataset Collect(IEnumerable<SftExample> examples)
    {
        var list = examples.ToList();
        if (list.Count == 0) throw new SftDataException("The SFT data set has no rows.");
        long supervised = list.Sum(e => (long)e.SupervisedTokenCount);
        int empty = list.Count(e => e.SupervisedTokenCount == 0);
        if (supervised == 0)
            throw new SftDataException($"None of the {list.Count} examples has a supervised (response) token, so there is nothing to learn: "
                + "the responses are empty (and AppendEos is off) or were cut away by MaxLength. Check the response / messages column and MaxLength.");
        return new SftDataset(list, list.Count(e => e.Truncated), supervised, empty);
    }
}
