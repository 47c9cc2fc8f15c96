using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Notifications.Testing;
using Npgsql;

namespace Notifications.EndToEndTests.Support;

/// <summary>A user a producer registered: their id and the address their email goes to.</summary>
internal sealed record Recipient(string Id, string Email);

/// <summary>A job of an accepted notification, as the <c>202</c> of a send lists it.</summary>
internal sealed record AcceptedJob(Guid Id, string Channel, string Status);

/// <summary>The <c>202</c> of <c>POST /api/notifications</c>.</summary>
internal sealed record SentNotification(Guid NotificationId, IReadOnlyList<AcceptedJob> Jobs)
{
    public AcceptedJob Job(string channel) => Jobs.Single(job => job.Channel == channel);
}

/// <summary>
/// The running system through its HTTP API, the way the README uses it: dev tokens for producers, users and operators,
/// registering recipients, sending, and reading jobs, the dev mailbox, metrics and cron runs. Responses are read as
/// JSON documents, as any client of the API would, without the API's own types. Also gives the AppHost's database for
/// the few things a test must arrange directly.
/// </summary>
internal sealed class NotificationsApiClient(AppHostTestHost appHost) : IDisposable
{
    public const string SendScope = "notifications:send";

    private readonly List<HttpClient> _clients = [];
    private HttpClient? _anonymous;

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    /// <summary>A client without a token: the dev endpoints (tokens, mailbox) need none.</summary>
    public HttpClient Anonymous => _anonymous ??= Track(appHost.CreateHttpClient("api"));

    /// <summary>A fresh id, so that no test sees another's data.</summary>
    public static string NewId(string prefix) => $"e2e-{prefix}-{Guid.NewGuid():N}";

    /// <summary>A client carrying a dev token for <paramref name="subject"/>.</summary>
    public async Task<HttpClient> ClientForAsync(string subject, string[]? roles = null, string[]? scopes = null)
    {
        using var response = await Anonymous.PostAsJsonAsync("/api/dev/tokens", new { sub = subject, roles, scopes }, Cancellation);
        var token = (await ReadJsonAsync(response, HttpStatusCode.OK)).GetProperty("accessToken").GetString();
        var client = Track(appHost.CreateHttpClient("api"));
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>A producer (scope <c>notifications:send</c>) of its own, so its rate-limit budget is its own too.</summary>
    public Task<HttpClient> ProducerAsync() => ClientForAsync(NewId("producer"), scopes: [SendScope]);

    /// <summary>An operator (role <c>admin</c>) of its own.</summary>
    public Task<HttpClient> AdminAsync() => ClientForAsync(NewId("ops"), roles: ["admin"]);

    /// <summary><c>PUT /api/users/{id}</c> with an address of the user's own: registered (201).</summary>
    public async Task<Recipient> RegisterUserAsync(HttpClient producer, string prefix = "user")
    {
        var id = NewId(prefix);
        var recipient = new Recipient(id, $"{id}@example.com");
        using var response = await producer.PutAsJsonAsync($"/api/users/{id}", new { email = recipient.Email }, Cancellation);
        await ReadJsonAsync(response, HttpStatusCode.Created);
        return recipient;
    }

    /// <summary>Registers <paramref name="count"/> users, one after another.</summary>
    public async Task<List<Recipient>> RegisterUsersAsync(HttpClient producer, int count)
    {
        var recipients = new List<Recipient>(count);
        for (var i = 0; i < count; i++)
        {
            recipients.Add(await RegisterUserAsync(producer));
        }
        return recipients;
    }

    /// <summary><c>POST /api/notifications</c>, answered 202.</summary>
    public async Task<SentNotification> SendAsync(
        HttpClient producer, Recipient recipient, string type, string title,
        string category = "social", string priority = "normal", string[]? channels = null)
    {
        using var response = await producer.PostAsJsonAsync("/api/notifications", new
        {
            userId = recipient.Id,
            type,
            category,
            priority,
            title,
            body = $"{title} — sent by an end-to-end test.",
            data = new { test = "end-to-end" },
            channels,
        }, Cancellation);
        var accepted = await ReadJsonAsync(response, HttpStatusCode.Accepted);
        return new SentNotification(
            accepted.GetProperty("notificationId").GetGuid(),
            [.. accepted.GetProperty("jobs").EnumerateArray().Select(job => new AcceptedJob(
                job.GetProperty("id").GetGuid(), job.GetProperty("channel").GetString()!, job.GetProperty("status").GetString()!))]);
    }

    /// <summary><c>GET /api/jobs/{id}</c>: the job (<c>job</c>), its notification and its delivery logs.</summary>
    public async Task<JsonElement> GetJobAsync(HttpClient client, Guid id)
    {
        using var response = await client.GetAsync($"/api/jobs/{id}", Cancellation);
        return await ReadJsonAsync(response, HttpStatusCode.OK);
    }

    /// <summary><c>GET /api/jobs?…</c>: one page (at most 100) of the jobs the caller sees.</summary>
    public async Task<IReadOnlyList<JsonElement>> ListJobsAsync(HttpClient client, string query)
    {
        using var response = await client.GetAsync($"/api/jobs?limit=100&{query}", Cancellation);
        return Items(await ReadJsonAsync(response, HttpStatusCode.OK));
    }

    /// <summary>Waits until every job of notifications of <paramref name="type"/> has one of <paramref name="statuses"/>; returns them.</summary>
    public Task<IReadOnlyList<JsonElement>> WaitForJobsOfTypeAsync(HttpClient admin, string type, int count, params string[] statuses) =>
        Poll.UntilAsync(
            $"the {count} jobs of type {type} are {string.Join(" or ", statuses)}",
            () => ListJobsAsync(admin, $"type={Uri.EscapeDataString(type)}"),
            jobs => jobs.Count == count && jobs.All(job => statuses.Contains(job.Str("status"))),
            TimeSpan.FromMinutes(3));

    /// <summary><c>GET /api/dev/mailbox?to=…</c>: what the dev mailbox holds for one address, newest first.</summary>
    public async Task<IReadOnlyList<JsonElement>> MailboxAsync(string to)
    {
        using var response = await Anonymous.GetAsync($"/api/dev/mailbox?limit=100&to={Uri.EscapeDataString(to)}", Cancellation);
        return Items(await ReadJsonAsync(response, HttpStatusCode.OK));
    }

    /// <summary><c>GET /api/dev/mailbox/{id}</c>: one message with its text and HTML.</summary>
    public async Task<JsonElement> MailboxMessageAsync(Guid id)
    {
        using var response = await Anonymous.GetAsync($"/api/dev/mailbox/{id}", Cancellation);
        return await ReadJsonAsync(response, HttpStatusCode.OK);
    }

    /// <summary><c>GET /api/admin/metrics</c>.</summary>
    public async Task<JsonElement> AdminMetricsAsync(HttpClient admin)
    {
        using var response = await admin.GetAsync("/api/admin/metrics", Cancellation);
        return await ReadJsonAsync(response, HttpStatusCode.OK);
    }

    /// <summary>
    /// <c>POST /api/admin/cron-jobs/{name}/trigger</c> until it is accepted (a run of the job that is executing answers
    /// 409; the every-minute jobs are often running); returns when the trigger was requested.
    /// </summary>
    public async Task<DateTimeOffset> TriggerCronJobAsync(HttpClient admin, string name)
    {
        var accepted = await Poll.UntilAsync(
            $"the trigger of {name} is accepted",
            async () =>
            {
                using var response = await admin.PostAsync($"/api/admin/cron-jobs/{name}/trigger", content: null, Cancellation);
                return response.StatusCode == HttpStatusCode.Conflict ? (JsonElement?)null : await ReadJsonAsync(response, HttpStatusCode.Accepted);
            },
            triggered => triggered is not null);
        return accepted!.Value.GetProperty("requestedAt").GetDateTimeOffset();
    }

    /// <summary>Waits for a completed run of <paramref name="job"/> that <paramref name="matches"/>, from <c>GET /api/admin/cron-jobs</c>.</summary>
    public async Task<JsonElement> WaitForCompletedRunAsync(HttpClient admin, string job, string what, Func<JsonElement, bool> matches)
    {
        var runs = await Poll.UntilAsync(
            $"a completed run of {job} {what}",
            async () =>
            {
                using var response = await admin.GetAsync($"/api/admin/cron-jobs?job={job}&status=completed", Cancellation);
                return Items(await ReadJsonAsync(response, HttpStatusCode.OK));
            },
            items => items.Any(matches));
        return runs.First(matches);
    }

    /// <summary>Runs one statement on the AppHost's database, for arranging what the API cannot (e.g. making a schedule due).</summary>
    public Task<int> ExecuteSqlAsync(string sql, params object[] parameters) =>
        WithCommandAsync(sql, parameters, command => command.ExecuteNonQueryAsync(Cancellation));

    /// <summary>Reads one column of a query's rows on the AppHost's database.</summary>
    public Task<List<T>> QuerySqlAsync<T>(string sql, params object[] parameters) =>
        WithCommandAsync(sql, parameters, async command =>
        {
            var values = new List<T>();
            await using var reader = await command.ExecuteReaderAsync(Cancellation);
            while (await reader.ReadAsync(Cancellation))
            {
                values.Add(reader.GetFieldValue<T>(0));
            }
            return values;
        });

    /// <summary>Asserts the status code (showing the body when it differs) and returns the JSON body.</summary>
    public static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync(Cancellation);
        Assert.True(response.StatusCode == expected,
            $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri?.PathAndQuery} answered {(int)response.StatusCode}, expected {(int)expected}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    public void Dispose()
    {
        foreach (var client in _clients)
        {
            client.Dispose();
        }
    }

    private static IReadOnlyList<JsonElement> Items(JsonElement page) => [.. page.GetProperty("items").EnumerateArray()];

    private async Task<T> WithCommandAsync<T>(string sql, object[] parameters, Func<NpgsqlCommand, Task<T>> run)
    {
        await using var connection = new NpgsqlConnection(appHost.GetConnectionString("notificationsdb"));
        await connection.OpenAsync(Cancellation);
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }
        return await run(command);
    }

    private HttpClient Track(HttpClient client)
    {
        _clients.Add(client);
        return client;
    }
}

internal static class JsonElementExtensions
{
    /// <summary>A string property, e.g. a job's <c>status</c>.</summary>
    public static string? Str(this JsonElement element, string name) => element.GetProperty(name).GetString();
}
