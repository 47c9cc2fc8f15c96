using System.Text.Json;
using Notifications.Domain.Messaging;
using Notifications.Domain.Model;
using StackExchange.Redis;

namespace Notifications.UnitTests.Messaging;

public sealed class DeliveryMessageTests
{
    private static readonly DeliveryMessage Complete = new(
        Guid.Parse("0190a0b1-1111-7000-8000-000000000001"),
        Guid.Parse("0190a0b1-2222-7000-8000-000000000002"),
        "user-42",
        DeliveryChannel.InApp,
        NotificationPriority.Critical,
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "vendor=value");

    [Fact]
    public void ToStreamFields_WritesEveryFieldAsTextUnderItsName()
    {
        var fields = Complete.ToStreamFields();

        Assert.Equal(
            [
                new("job_id", "0190a0b1-1111-7000-8000-000000000001"),
                new("notification_id", "0190a0b1-2222-7000-8000-000000000002"),
                new("user_id", "user-42"),
                new("channel", "in_app"),
                new("priority", "critical"),
                new("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
                new("tracestate", "vendor=value"),
            ],
            fields);
    }

    [Fact]
    public void FromStreamFields_OfToStreamFields_RoundTrips()
    {
        Assert.Equal(Complete, DeliveryMessage.FromStreamFields(Complete.ToStreamFields()));
    }

    [Fact]
    public void DigestWithoutTraceContext_LeavesTheAbsentFieldsOutAndRoundTrips()
    {
        var digest = Complete with { NotificationId = null, Channel = DeliveryChannel.Email, TraceParent = null, TraceState = null };

        var fields = digest.ToStreamFields();

        Assert.Equal(["job_id", "user_id", "channel", "priority"], fields.Select(field => field.Key));
        Assert.Equal(digest, DeliveryMessage.FromStreamFields(fields));
    }

    [Fact]
    public void FromStreamFields_OfARawRedisFieldList_RoundTrips()
    {
        RedisValue[] raw = [.. Complete.ToStreamFields().SelectMany(field => new RedisValue[] { field.Key, field.Value })];

        Assert.Equal(Complete, DeliveryMessage.FromStreamFields(raw));
    }

    [Fact]
    public void FromStreamFields_IgnoresUnknownFields()
    {
        var fields = Complete.ToStreamFields().Append(new("added_later", "x"));

        Assert.Equal(Complete, DeliveryMessage.FromStreamFields(fields));
    }

    [Theory]
    [InlineData("job_id")]
    [InlineData("user_id")]
    [InlineData("channel")]
    [InlineData("priority")]
    public void FromStreamFields_WithoutARequiredField_FailsNamingIt(string missing)
    {
        var fields = Complete.ToStreamFields().Where(field => field.Key != missing);

        var exception = Assert.Throws<FormatException>(() => DeliveryMessage.FromStreamFields(fields));
        Assert.Contains($"'{missing}'", exception.Message);
    }

    [Theory]
    [InlineData("job_id", "42")]
    [InlineData("notification_id", "not-a-guid")]
    [InlineData("channel", "InApp")]
    [InlineData("priority", "urgent")]
    public void FromStreamFields_WithAMalformedValue_FailsNamingTheField(string field, string value)
    {
        var fields = Complete.ToStreamFields().Where(pair => pair.Key != field).Append(new(field, value));

        var exception = Assert.Throws<FormatException>(() => DeliveryMessage.FromStreamFields(fields));
        Assert.Contains($"'{field}'", exception.Message);
    }

    [Fact]
    public void FromStreamFields_OfAnOddRawFieldList_Fails()
    {
        Assert.Throws<FormatException>(() => DeliveryMessage.FromStreamFields(new RedisValue[] { "job_id" }));
    }

    [Fact]
    public void StreamNames_ArePerChannelUnderThePrefix()
    {
        Assert.Equal("notifications:stream:in_app", DeliveryStreams.For(DeliveryChannel.InApp));
        Assert.Equal("notifications:stream:email", DeliveryStreams.For(DeliveryChannel.Email));
    }

    [Fact]
    public void OutboxMessageFor_AJob_HoldsTheMessageWithTheTraceContextInItsColumns()
    {
        var now = DateTimeOffset.Parse("2026-01-02T03:04:05Z");
        var job = new DeliveryJob
        {
            NotificationId = Guid.CreateVersion7(),
            UserId = "user-7",
            Channel = DeliveryChannel.Email,
            Status = DeliveryJobStatus.Queued,
            Priority = NotificationPriority.High,
            ScheduledFor = now,
            CreatedAt = now,
            UpdatedAt = now,
        };

        var row = OutboxMessage.For(job, Complete.TraceParent, Complete.TraceState, now);

        Assert.Equal(job.Id, row.JobId);
        Assert.Equal(DeliveryChannel.Email, row.Channel);
        Assert.Equal(now, row.CreatedAt);
        Assert.Null(row.DispatchedAt);
        Assert.False(row.Payload.RootElement.TryGetProperty("traceparent", out _));
        Assert.Equal("user-7", row.Payload.RootElement.GetProperty("user_id").GetString());
        Assert.Equal(
            new DeliveryMessage(job.Id, job.NotificationId, "user-7", DeliveryChannel.Email, NotificationPriority.High, Complete.TraceParent, Complete.TraceState),
            row.ToDeliveryMessage());
    }

    [Fact]
    public void OutboxMessageToDeliveryMessage_OfAPayloadWithoutTheFields_FailsNamingTheField()
    {
        var row = new OutboxMessage
        {
            JobId = Guid.CreateVersion7(),
            Channel = DeliveryChannel.InApp,
            Payload = JsonDocument.Parse("""{"title":"hello"}"""),
            CreatedAt = DateTimeOffset.UnixEpoch,
            AvailableAt = DateTimeOffset.UnixEpoch,
        };

        var exception = Assert.Throws<FormatException>(row.ToDeliveryMessage);
        Assert.Contains("'job_id'", exception.Message);
    }
}
