namespace PluginHost.Binlog.Ddl;

/// <summary>Reads a statement's tokens front to back; <see cref="DdlSyntaxException"/> where they are not what the DDL subset expects.</summary>
internal sealed class DdlCursor(List<DdlToken> tokens)
{
    private int _at;

    public bool AtEnd => _at >= tokens.Count || tokens[_at].IsSymbol(';') && _at == tokens.Count - 1;

    /// <summary>The current token (a blank symbol at the end).</summary>
    public DdlToken Peek(int ahead = 0) => _at + ahead < tokens.Count ? tokens[_at + ahead] : new DdlToken(DdlTokenKind.Symbol, "");

    public DdlToken Next() => _at < tokens.Count ? tokens[_at++] : throw new DdlSyntaxException("the statement ends early");

    /// <summary>True (and moves on) when the current token is the word <paramref name="word"/>.</summary>
    public bool Accept(string word)
    {
        if (!Peek().Is(word)) return false;
        _at++;
        return true;
    }

    /// <summary>True (and moves on) when the next tokens are the words <paramref name="words"/>.</summary>
    public bool AcceptAll(params string[] words)
    {
        for (var i = 0; i < words.Length; i++)
            if (!Peek(i).Is(words[i])) return false;
        _at += words.Length;
        return true;
    }

    public bool AcceptSymbol(char symbol)
    {
        if (!Peek().IsSymbol(symbol)) return false;
        _at++;
        return true;
    }

    public void Expect(string word)
    {
        if (!Accept(word)) throw new DdlSyntaxException($"expected {word}, found '{Peek()}'");
    }

    public void ExpectSymbol(char symbol)
    {
        if (!AcceptSymbol(symbol)) throw new DdlSyntaxException($"expected '{symbol}', found '{Peek()}'");
    }

    /// <summary>A name: a word or a backquoted identifier (a string where the server allows one, e.g. a column alias, is not).</summary>
    public string Identifier()
    {
        var t = Peek();
        if (!t.IsIdentifier) throw new DdlSyntaxException($"expected a name, found '{t}'");
        _at++;
        return t.Text;
    }

    /// <summary><c>[db.]table</c>, the database defaulting to <paramref name="defaultDatabase"/>.</summary>
    public TableName TableName(string defaultDatabase)
    {
        var first = Identifier();
        if (!AcceptSymbol('.')) return new TableName(defaultDatabase, first);
        return new TableName(first, Identifier());
    }

    /// <summary>Skips a parenthesised group (the current token is its <c>(</c>), nested groups included.</summary>
    public void SkipGroup()
    {
        ExpectSymbol('(');
        var depth = 1;
        while (depth > 0)
        {
            var t = Next();
            if (t.IsSymbol('(')) depth++;
            else if (t.IsSymbol(')')) depth--;
        }
    }

    /// <summary>Skips to the <c>,</c> or closing <c>)</c> that ends the current item (not consuming it), or the end.</summary>
    public void SkipItem()
    {
        while (!AtEnd && !Peek().IsSymbol(',') && !Peek().IsSymbol(')') && !Peek().IsSymbol(';'))
        {
            if (Peek().IsSymbol('(')) SkipGroup();
            else _at++;
        }
    }

    /// <summary>The tokens of a parenthesised group without its parentheses (the current token is its <c>(</c>).</summary>
    public List<DdlToken> Group()
    {
        var start = _at + 1;
        SkipGroup();
        return tokens.GetRange(start, _at - 1 - start);
    }
}

/// <summary>A statement outside the DDL subset the parser reads.</summary>
internal sealed class DdlSyntaxException(string message) : Exception(message);
