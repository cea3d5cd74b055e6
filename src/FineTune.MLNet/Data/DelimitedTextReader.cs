using System.Text;

namespace FineTune.MLNet.Data;

/// <summary>
/// Reads CSV/TSV files as RFC 4180 describes them: a required header row; fields separated by one delimiter
/// character; a field may be wrapped in double quotes, inside which the delimiter, CR/LF line breaks and
/// doubled quotes (<c>""</c> = one <c>"</c>) are literal; records end with CRLF, LF or CR; UTF-8 with or without BOM.
/// </summary>
/// <remarks>
/// Leniencies: completely empty lines between records are skipped (as pandas does), and a quote inside an unquoted
/// field is kept as a literal character. Every other irregularity is an <see cref="InvalidDataException"/> naming the
/// file, the 1-based line (and data row) and what was wrong.
/// </remarks>
public static class DelimitedTextReader
{
    /// <summary>Largest file read (1 GiB): the whole text is held in memory, and .NET strings stop near 1 G characters.</summary>
    public const long MaxFileBytes = 1L << 30;

    /// <summary>Longest record (row, with its quoted line breaks) in characters, 16 Mi: far beyond any model's context.</summary>
    public const int MaxRecordChars = 16 << 20;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Reads the whole file at <paramref name="path"/>.</summary>
    /// <param name="path">File to read.</param>
    /// <param name="delimiter">Field separator; when null it follows the extension: <c>.csv</c> → ',', <c>.tsv</c>/<c>.tab</c> → tab.</param>
    public static DelimitedTable Read(string path, char? delimiter = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        char separator = delimiter ?? DelimiterForExtension(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Delimited text file '{path}' does not exist.", path);
        }

        long length = new FileInfo(path).Length;
        if (length > MaxFileBytes)
        {
            throw new InvalidDataException(
                $"{path}: the file is {length:N0} bytes, more than the {MaxFileBytes:N0}-byte limit for delimited text; split it into smaller files.");
        }

        string text;
        try
        {
            text = File.ReadAllText(path, StrictUtf8);
        }
        catch (DecoderFallbackException ex)
        {
            throw new InvalidDataException($"{path}: the file is not valid UTF-8 ({ex.Message}).", ex);
        }

        return Parse(text, separator, path);
    }

    /// <summary>The delimiter implied by a file's extension: <c>.csv</c> → ',', <c>.tsv</c> or <c>.tab</c> → tab.</summary>
    /// <exception cref="ArgumentException">Any other extension; pass the delimiter explicitly.</exception>
    public static char DelimiterForExtension(string path)
    {
        string extension = Path.GetExtension(path).ToLowerInvariant();
        return extension switch
        {
            ".csv" => ',',
            ".tsv" or ".tab" => '\t',
            _ => throw new ArgumentException(
                $"Cannot infer the delimiter of '{path}' from its extension '{extension}'; expected .csv or .tsv, or pass the delimiter explicitly.",
                nameof(path)),
        };
    }

    /// <summary>Parses delimited text already in memory. <paramref name="source"/> names it in error messages.</summary>
    public static DelimitedTable Parse(string text, char delimiter, string source = "<memory>")
    {
        ArgumentNullException.ThrowIfNull(text);
        if (delimiter is '"' or '\r' or '\n')
        {
            throw new ArgumentException($"The delimiter cannot be a quote or a line break (got U+{(int)delimiter:X4}).", nameof(delimiter));
        }

        var parser = new Parser(text, delimiter, source);
        var header = parser.NextRecord(dataRow: 0)
            ?? throw new InvalidDataException($"{source}: the file is empty; a header row with the column names is required.");
        ValidateHeader(header.Fields, source);

        var rows = new List<string[]>();
        while (parser.NextRecord(dataRow: rows.Count + 1) is { } record)
        {
            if (record.Fields.Length != header.Fields.Length)
            {
                throw new InvalidDataException(
                    $"{source}: line {record.Line} (data row {rows.Count + 1}) has {record.Fields.Length} field(s) but the header has " +
                    $"{header.Fields.Length} column(s) ({string.Join(", ", header.Fields)}). " +
                    "A field that contains the delimiter, a quote or a line break must be wrapped in double quotes.");
            }

            rows.Add(record.Fields);
        }

        return new DelimitedTable(header.Fields, rows) { Source = source };
    }

    private static void ValidateHeader(string[] columns, string source)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < columns.Length; i++)
        {
            if (!seen.Add(columns[i]))
            {
                throw new InvalidDataException(
                    $"{source}: line 1 (header): column name '{columns[i]}' appears more than once (columns: {string.Join(", ", columns)}).");
            }
        }
    }

    private readonly record struct Record(string[] Fields, int Line);

    /// <summary>Character-level RFC 4180 state machine over the whole text; tracks 1-based physical lines.</summary>
    private sealed class Parser(string text, char delimiter, string source)
    {
        private readonly StringBuilder _field = new();
        private readonly List<string> _fields = [];
        private int _position = text.Length > 0 && text[0] == '\uFEFF' ? 1 : 0;
        private int _line = 1;

        public Record? NextRecord(int dataRow)
        {
            SkipEmptyLines();
            if (_position >= text.Length)
            {
                return null;
            }

            int recordLine = _line;
            int recordStart = _position;
            _fields.Clear();
            while (true)
            {

                if (_position < text.Length && text[_position] == '"')
                {
                    ReadQuotedField(dataRow);
                }
                else
                {
                    ReadUnquotedField();
                }

                if (_position - recordStart > MaxRecordChars)
                {
                    throw new InvalidDataException(
                        $"{source}: line {recordLine} ({Describe(dataRow)}) is longer than the {MaxRecordChars:N0}-character limit for one record " +
                        "(not a delimited text file, or the wrong delimiter).");
                }

                _fields.Add(_field.ToString());
                _field.Clear();
                if (_position < text.Length && text[_position] == delimiter)
                {
                    _position++;
                    continue;
                }

                ConsumeLineBreak();
                return new Record([.. _fields], recordLine);
            }
        }

        private void ReadUnquotedField()
        {
            int start = _position;
            while (_position < text.Length && text[_position] != delimiter && text[_position] != '\r' && text[_position] != '\n')
            {
                _position++;
            }

            _field.Append(text, start, _position - start);
        }

        private void ReadQuotedField(int dataRow)
        {
            int openLine = _line;
            int openAt = _position;
            _position++; // opening quote
            while (true)
            {
                if (_position - openAt > MaxRecordChars)
                {
                    throw new InvalidDataException(
                        $"{source}: line {openLine} ({Describe(dataRow)}): a quoted field opened on this line runs past the {MaxRecordChars:N0}-character limit for one record; " +
                        "a quote inside a quoted field must be doubled (\"\").");
                }

                if (_position >= text.Length)
                {
                    throw new InvalidDataException(
                        $"{source}: line {openLine} ({Describe(dataRow)}): a quoted field opened on this line is never closed (end of file reached). " +
                        "A quote inside a quoted field must be doubled (\"\").");
                }

                char c = text[_position];
                if (c == '"')
                {
                    if (_position + 1 < text.Length && text[_position + 1] == '"')
                    {
                        _field.Append('"');
                        _position += 2;
                        continue;
                    }

                    _position++; // closing quote
                    break;
                }

                if (c == '\n' || (c == '\r' && (_position + 1 >= text.Length || text[_position + 1] != '\n')))
                {
                    _line++;
                }

                _field.Append(c);
                _position++;
            }

            if (_position < text.Length && text[_position] != delimiter && text[_position] != '\r' && text[_position] != '\n')
            {
                throw new InvalidDataException(
                    $"{source}: line {_line} ({Describe(dataRow)}): unexpected character '{text[_position]}' after the closing quote of a field; " +
                    "expected the delimiter or the end of the line. A quote inside a quoted field must be doubled (\"\").");
            }
        }

        private void ConsumeLineBreak()
        {
            if (_position >= text.Length)
            {
                return;
            }

            if (text[_position] == '\r' && _position + 1 < text.Length && text[_position + 1] == '\n')
            {
                _position++;
            }

            _position++;
            _line++;
        }

        private void SkipEmptyLines()
        {
            while (_position < text.Length && text[_position] is '\r' or '\n')
            {
                ConsumeLineBreak();
            }
        }

        private static string Describe(int dataRow) => dataRow == 0 ? "header" : $"data row {dataRow}";
    }
}
