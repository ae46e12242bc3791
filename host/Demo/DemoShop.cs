using PluginHost.Binlog.Protocol;

namespace PluginHost.Demo;

/// <summary>
/// The demo's sample data: a small <c>shop</c> schema (customers with e-mail addresses, orders), the transform the demo
/// pipeline starts with, and a writer making one change every half second.
/// </summary>
public static class DemoShop
{
    /// <summary>The schema and its first rows, run before the pipeline starts (it reads from the earliest binlog).</summary>
    public const string Schema = """
        CREATE DATABASE shop;
        CREATE TABLE shop.customers (
          id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
          name VARCHAR(100) NOT NULL, email VARCHAR(200), created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3));
        CREATE TABLE shop.orders (
          id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, customer_id INT UNSIGNED NOT NULL,
          amount DECIMAL(10,2) NOT NULL, status ENUM('new','paid','shipped') NOT NULL DEFAULT 'new', note JSON);
        INSERT INTO shop.customers (name, email) VALUES ('Ann', 'ann@example.com'), ('Bob', 'bob@example.com');
        """;

    /// <summary>
    /// The transform the demo writes beside its configuration: masks e-mail addresses with the UserFunctions plugin's
    /// <c>tObfString</c> and adds the address's domain as a field, in both row images.
    /// </summary>
    public const string Transform = """
        // The demo pipeline's transform: edit and save this file while `pluginhost demo` runs, and the next events use
        // the new version (hot reload, between two transactions). A save that does not compile is reported with the
        // compiler's message, and the running version goes on. Things to try: remove the `//` in front of a line marked
        // `try:` below and save; or write tMaskEmail instead of tObfString, which keeps the domain readable.
        // tObfString and tMaskEmail come from the UserFunctions helper plugin (plugins/UserFunctions), in scope unqualified.

        ChangeEvent? Transform(ChangeEvent e)
        {
            Mask(e.Before);
            Mask(e.After);
            // e.Extra["seen_by"] = "demo";            // try: a field added to every event
            // if (e.Table == "orders") return null;   // try: the orders dropped (null: no event)
            return e;
        }

        void Mask(Row? row)
        {
            if (row?["email"] is string email)
            {
                row["email_domain"] = email[(email.LastIndexOf('@') + 1)..];
                row["email"] = tObfString(email);
            }
        }

        """;

    /// <summary>Inserts, updates and deletes rows of <c>shop</c>, one statement every half second, until cancelled.</summary>
    public static async Task WriteChangesAsync(int port, CancellationToken ct)
    {
        await using var c = await MySqlProtocolConnection.OpenAsync(
            new ConnectionOptions { Host = "127.0.0.1", Port = port, User = "root", SslMode = SslMode.None }, ct).ConfigureAwait(false);
        var rnd = new Random(42);
        for (var i = 1; !ct.IsCancellationRequested; i++)
        {
            await Task.Delay(500, ct).ConfigureAwait(false);
            switch (i % 4)
            {
                case 1:
                    await c.ExecuteAsync($"INSERT INTO shop.orders (customer_id, amount, note) VALUES ({1 + i % 2}, {rnd.Next(100, 99999) / 100.0:F2}, '{{\"gift\": {(i % 3 == 0 ? "true" : "false")}}}')", ct).ConfigureAwait(false);
                    break;
                case 2:
                    await c.ExecuteAsync("UPDATE shop.orders SET status = 'paid' WHERE status = 'new' ORDER BY id LIMIT 1", ct).ConfigureAwait(false);
                    break;
                case 3:
                    await c.ExecuteAsync($"INSERT INTO shop.customers (name, email) VALUES ('Customer {i}', 'customer{i}@example.com')", ct).ConfigureAwait(false);
                    break;
                default:
                    await c.ExecuteAsync("DELETE FROM shop.orders WHERE status = 'paid' ORDER BY id LIMIT 1", ct).ConfigureAwait(false);
                    break;
            }
        }
    }
}
