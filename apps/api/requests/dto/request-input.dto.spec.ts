import type { ArgumentMetadata } from '@nestjs/common';
import { ApiError } from '../../errors/api-error';
import { createValidationPipe } from '../../errors/validation';
import { CreateRequestDto, DecisionDto, ExtendRequestDto, ListRequestsQueryDto } from './request-input.dto';

const sut = createValidationPipe();

async function validate(
  metatype: ArgumentMetadata['metatype'],
  value: unknown,
  type: ArgumentMetadata['type'] = 'body',
) {
  try {
    return { ok: true as const, value: (await sut.transform(value, { type, metatype })) as unknown };
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    return {
      ok: false as const,
      status: err.status,
      fields: (err.details as Array<{ field: string }>).map((d) => d.field),
    };
  }
}

const valid = { resourceId: 'prod-db', duration: 'PT2H', justification: 'Investigating INC-4211 slow queries' };

describe('request DTO validation', () => {
  it('accepts a well-formed create body', async () => {
    await expect(validate(CreateRequestDto, valid)).resolves.toMatchObject({ ok: true });
  });

  it('refuses unknown fields instead of dropping them, including an identity smuggled into the body', async () => {
    await expect(validate(CreateRequestDto, { ...valid, requester: 'bob' })).resolves.toEqual({
      ok: false,
      status: 400,
      fields: ['requester'],
    });
  });

  it('refuses a missing resource id and wrong types', async () => {
    await expect(validate(CreateRequestDto, { duration: 'PT1H' })).resolves.toMatchObject({ fields: ['resourceId'] });
    await expect(validate(CreateRequestDto, { ...valid, justification: 42 })).resolves.toMatchObject({
      fields: ['justification'],
    });
    await expect(validate(CreateRequestDto, { ...valid, resourceId: ['prod-db'] })).resolves.toMatchObject({
      fields: ['resourceId'],
    });
  });

  it.each(['PT0S', 'P0D', '-PT1H', 'PT-1H', '2h', 'P1Y', 'PT', '', `PT${'9'.repeat(40)}H`])(
    'refuses the duration %p',
    async (duration) => {
      await expect(validate(CreateRequestDto, { ...valid, duration })).resolves.toMatchObject({
        ok: false,
        fields: ['duration'],
      });
    },
  );

  it.each(['PT1H', 'P1W', 'P1DT0H', 'PT0.001S', 'PT0.010S', 'P0DT0M1S', 'PT08H', 'P999999D'])(
    'accepts the duration %p',
    async (duration) => {
      await expect(validate(CreateRequestDto, { ...valid, duration })).resolves.toMatchObject({ ok: true });
    },
  );

  it.each(['P1DT', 'PT0.000S', 'P1W1D', 'PT1M1H', 'PT1.1234S', 'P1000000D'])(
    'refuses the duration %p (form, zero, or more digits than a unit may have)',
    async (duration) => {
      await expect(validate(CreateRequestDto, { ...valid, duration })).resolves.toMatchObject({ ok: false });
    },
  );

  it.each([['2026-12-01T22:00:00Z'], ['2026-12-01T22:00:00.123+01:00'], ['2028-02-29T00:00:00-05:30']])(
    "accepts the startAt %p (its form; when it falls is the service's to judge)",
    async (startAt) => {
      await expect(validate(CreateRequestDto, { ...valid, startAt })).resolves.toMatchObject({ ok: true });
    },
  );

  it.each(['2026-12-01T22:00:00', '2026-12-01', '2026-12-01T22:00Z', '2026-02-30T22:00:00Z', '2026-12-01t22:00:00z'])(
    'refuses the startAt %p',
    async (startAt) => {
      await expect(validate(CreateRequestDto, { ...valid, startAt })).resolves.toMatchObject({
        ok: false,
        fields: ['startAt'],
      });
    },
  );

  it('refuses null where a field may only be left out: the document says no field is nullable', async () => {
    for (const field of ['duration', 'justification', 'ticket', 'breakGlass', 'startAt']) {
      await expect(validate(CreateRequestDto, { ...valid, [field]: null })).resolves.toMatchObject({
        ok: false,
        fields: [field],
      });
    }
    await expect(validate(DecisionDto, { comment: null })).resolves.toMatchObject({ ok: false, fields: ['comment'] });
  });

  it('bounds free text: justification and comment at 1000 characters, ticket at 100', async () => {
    await expect(validate(CreateRequestDto, { ...valid, justification: 'x'.repeat(1000) })).resolves.toMatchObject({
      ok: true,
    });
    await expect(validate(CreateRequestDto, { ...valid, justification: 'x'.repeat(1001) })).resolves.toMatchObject({
      fields: ['justification'],
    });
    await expect(validate(CreateRequestDto, { ...valid, ticket: 'T'.repeat(101) })).resolves.toMatchObject({
      fields: ['ticket'],
    });
    await expect(validate(DecisionDto, { comment: 'x'.repeat(1001) })).resolves.toMatchObject({ fields: ['comment'] });
  });

  it('requires a positive duration to extend by', async () => {
    await expect(validate(ExtendRequestDto, {})).resolves.toMatchObject({ fields: ['duration'] });
    await expect(validate(ExtendRequestDto, { duration: 'PT30M' })).resolves.toMatchObject({ ok: true });
  });

  it('turns list query strings into typed values', async () => {
    const result = await validate(ListRequestsQueryDto, { mine: 'true', pageSize: '50', status: 'ACTIVE' }, 'query');
    expect(result).toMatchObject({ ok: true, value: { mine: true, pageSize: 50, status: 'ACTIVE' } });
  });

  it.each([
    [{ pageSize: '0' }, 'pageSize'],
    [{ pageSize: '101' }, 'pageSize'],
    [{ pageSize: '2.5' }, 'pageSize'],
    [{ status: 'ACTIVE OR 1=1' }, 'status'],
    [{ resourceId: "prod-db' OR '1'='1" }, 'resourceId'],
    [{ requester: 'alice OR LatchkeyRequester != ""' }, 'requester'],
    [{ mine: 'yes' }, 'mine'],
    [{ pageToken: 'not base64!' }, 'pageToken'],
    [{ query: 'WorkflowType != ""' }, 'query'],
  ])('refuses the list filter %p', async (query, field) => {
    await expect(validate(ListRequestsQueryDto, query, 'query')).resolves.toMatchObject({ ok: false, fields: [field] });
  });
});
