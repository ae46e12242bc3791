using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using static PluginHost.Plugins.UserFunctions.UserFunctions;

namespace PluginHost.Tests.Plugins;

/// <summary>The sample helper plugin's functions (called directly; loading it as a plugin is covered by BuildLayoutTests).</summary>
public sealed class UserFunctionsTests
{
    [Theory]
    [InlineData(null, null)]
    [InlineData("", "")]
    [InlineData("A", "*")]
    [InlineData("Al", "**")]
    [InlineData("Bob", "B*b")]
    [InlineData("John Smith", "J********h")]
    [InlineData("4111-1111-1111-1234", "4*****************4")]
    [InlineData("  x ", " ** ")]
    [InlineData("Zoë", "Z*ë")]
    public void tObfString_keeps_length_and_first_and_last_characters(string? input, string? expected)
    {
        Assert.Equal(expected, tObfString(input));
    }

    [Fact]
    public void tObfString_counts_characters_not_utf16_units()
    {
        // 😀 is one character (two UTF-16 chars): never split, and counted once.
        Assert.Equal("😀*😀", tObfString("😀a😀"));
        Assert.Equal("**", tObfString("😀😀"));
        Assert.Equal("a**😀", tObfString("a😀😀😀"));
        Assert.Equal(3, tObfString("😀a😀")!.EnumerateRunes().Count());
    }

    [Fact]
    public void tHash_is_hex_sha256_of_salt_then_value()
    {
        static string Sha(string s) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(s)));
        Assert.Equal(Sha("s3cretann@example.com"), tHash("ann@example.com", "s3cret"));
        Assert.Matches("^[0-9a-f]{64}$", tHash("x", "y"));
        Assert.Equal(Sha("ann"), tHash("ann", null));
        Assert.Equal(Sha("ann"), tHash("ann", ""));
        Assert.Null(tHash(null, "salt"));
        Assert.NotEqual(tHash("ann", "a"), tHash("ann", "b"));
        Assert.Equal(Sha("salt42"), tHash(42, "salt"));
        Assert.Equal(Sha("salt12.5"), tHash(12.5m, "salt"));
        Assert.Equal(Sha("salttrue"), tHash(true, "salt"));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData([(byte)'s', 1, 2])), tHash(new byte[] { 1, 2 }, "s"));
    }

    [Fact]
    public void tHash_formats_numbers_in_the_invariant_culture()
    {
        var saved = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = new CultureInfo("de-DE", useUserOverride: false);
            Assert.Equal(tHash("12.5", "s"), tHash(12.5, "s"));
        }
        catch (CultureNotFoundException)
        {
            // InvariantGlobalization: every culture formats invariantly anyway.
            Assert.Equal(tHash("12.5", "s"), tHash(12.5, "s"));
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("john.smith@example.com", "j********h@example.com")]
    [InlineData("al@example.com", "**@example.com")]
    [InlineData("a@b.c", "*@b.c")]
    [InlineData("@example.com", "@example.com")]
    [InlineData("we\"ird@name\"@example.com", "w**********\"@example.com")]
    [InlineData("not-an-email", "n**********l")]
    public void tMaskEmail_masks_the_local_part_and_keeps_the_domain(string? input, string? expected)
    {
        Assert.Equal(expected, tMaskEmail(input));
    }

    [Theory]
    [InlineData(null, 3, null)]
    [InlineData("abcdef", 3, "abc")]
    [InlineData("abc", 3, "abc")]
    [InlineData("ab", 3, "ab")]
    [InlineData("abc", 0, "")]
    [InlineData("😀😀😀", 2, "😀😀")]
    [InlineData("a😀b", 2, "a😀")]
    public void tTruncate_cuts_to_n_characters(string? input, int n, string? expected)
    {
        Assert.Equal(expected, tTruncate(input, n));
    }

    [Fact]
    public void tTruncate_rejects_a_negative_length()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => tTruncate("abc", -1));
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("+1 (555) 010-9999", "15550109999")]
    [InlineData("no digits", "")]
    [InlineData("٣4", "4")] // only ASCII digits
    public void tDigits_keeps_ascii_digits(string? input, string? expected)
    {
        Assert.Equal(expected, tDigits(input));
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("", null)]
    [InlineData("   ", null)]
    [InlineData("\t\n", null)]
    [InlineData(" x ", " x ")]
    public void tNullIfEmpty_turns_blank_into_null(string? input, string? expected)
    {
        Assert.Equal(expected, tNullIfEmpty(input));
    }
}
