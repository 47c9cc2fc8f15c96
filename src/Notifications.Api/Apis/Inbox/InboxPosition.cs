using System.Buffers.Binary;
using System.Buffers.Text;
using System.Diagnostics.CodeAnalysis;
using Microsoft.EntityFrameworkCore;
using Notifications.Domain.Model;

namespace Notifications.Api.Apis.Inbox;

/// <summary>
/// A place in a user's inbox: the key (<c>created_at</c>, <c>id</c>) the inbox is ordered by, as the
/// <c>ix_notifications_inbox</c> indexes store it. Compares as Postgres does (uuids byte by byte in RFC 4122 order),
/// so positions compared here and rows compared in SQL agree.
/// </summary>
public readonly record struct InboxPosition(DateTimeOffset CreatedAt, Guid Id) : IComparable<InboxPosition>
{
    private const byte CursorVersion = 1;
    private const int CursorBytes = 1 + sizeof(long) + 16;

    public static InboxPosition Of(Notification notification) => new(notification.CreatedAt, notification.Id);

    public int CompareTo(InboxPosition other)
    {
        var byTime = CreatedAt.UtcTicks.CompareTo(other.CreatedAt.UtcTicks);
        if (byTime != 0)
        {
            return byTime;
        }
        Span<byte> mine = stackalloc byte[16];
        Span<byte> theirs = stackalloc byte[16];
        Id.TryWriteBytes(mine, bigEndian: true, out _);
        other.Id.TryWriteBytes(theirs, bigEndian: true, out _);
        return mine.SequenceCompareTo(theirs);
    }

    /// <summary>
    /// The opaque cursor clients pass back: base64url of a version byte, the UTC ticks and the id, so it names an exact
    /// row position rather than an offset, and rows inserted meanwhile cannot shift a page.
    /// </summary>
    public string ToCursor()
    {
        Span<byte> bytes = stackalloc byte[CursorBytes];
        bytes[0] = CursorVersion;
        BinaryPrimitives.WriteInt64BigEndian(bytes[1..], CreatedAt.UtcTicks);
        Id.TryWriteBytes(bytes[(1 + sizeof(long))..], bigEndian: true, out _);
        return Base64Url.EncodeToString(bytes);
    }

    /// <summary>Reads a cursor made by <see cref="ToCursor"/>; false for anything else.</summary>
    public static bool TryParseCursor(string? cursor, [NotNullWhen(true)] out InboxPosition? position)
    {
        position = null;
        // 25 bytes are 34 base64url characters without padding.
        if (cursor is not { Length: 34 })
        {
            return false;
        }
        Span<byte> bytes = stackalloc byte[CursorBytes];
        // TryDecodeFromChars throws on characters outside the alphabet; IsValid checks them first.
        if (!Base64Url.IsValid(cursor, out var length) || length != CursorBytes
            || !Base64Url.TryDecodeFromChars(cursor, bytes, out _) || bytes[0] != CursorVersion)
        {
            return false;
        }
        var ticks = BinaryPrimitives.ReadInt64BigEndian(bytes[1..]);
        if (ticks < DateTimeOffset.MinValue.UtcTicks || ticks > DateTimeOffset.MaxValue.UtcTicks)
        {
            return false;
        }
        position = new InboxPosition(new DateTimeOffset(ticks, TimeSpan.Zero), new Guid(bytes.Slice(1 + sizeof(long), 16), bigEndian: true));
        return true;
    }
}

/// <summary>The inbox's queries, shared by the inbox API and the event stream's replay.</summary>
internal static class InboxQueries
{
    /// <summary>The user's notifications that are in the inbox (not archived): what <c>ix_notifications_inbox</c> covers.</summary>
    public static IQueryable<Notification> InboxOf(this IQueryable<Notification> notifications, string userId) =>
        notifications.Where(notification => notification.UserId == userId && notification.ArchivedAt == null);

    /// <summary>How many of the user's inbox notifications are unread, from the counter the database keeps.</summary>
    public static Task<int> UnreadCountOfAsync(this IQueryable<InboxCounter> counters, string userId, CancellationToken cancellationToken) =>
        counters.Where(counter => counter.UserId == userId).Select(counter => counter.Unread).FirstOrDefaultAsync(cancellationToken);

    /// <summary>Strictly older than <paramref name="position"/> (a row-value comparison the index serves).</summary>
    public static IQueryable<Notification> Before(this IQueryable<Notification> notifications, InboxPosition position)
    {
        var (createdAt, id) = (position.CreatedAt.ToUniversalTime(), position.Id);
        return notifications.Where(notification =>
            EF.Functions.LessThan(ValueTuple.Create(notification.CreatedAt, notification.Id), ValueTuple.Create(createdAt, id)));
    }

    /// <summary>Strictly newer than <paramref name="position"/>.</summary>
    public static IQueryable<Notification> After(this IQueryable<Notification> notifications, InboxPosition position)
    {
        var (createdAt, id) = (position.CreatedAt.ToUniversalTime(), position.Id);
        return notifications.Where(notification =>
            EF.Functions.GreaterThan(ValueTuple.Create(notification.CreatedAt, notification.Id), ValueTuple.Create(createdAt, id)));
    }

    public static IOrderedQueryable<Notification> NewestFirst(this IQueryable<Notification> notifications) =>
        notifications.OrderByDescending(notification => notification.CreatedAt).ThenByDescending(notification => notification.Id);

    public static IOrderedQueryable<Notification> OldestFirst(this IQueryable<Notification> notifications) =>
        notifications.OrderBy(notification => notification.CreatedAt).ThenBy(notification => notification.Id);

    public static IQueryable<Notification> Unread(this IQueryable<Notification> notifications) =>
        notifications.Where(notification => notification.ReadAt == null);
}
