import { BadRequestException, HttpException, NotFoundException } from '@nestjs/common';
import { QueryNotRegisteredError, ServiceError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure, WorkflowNotFoundError } from '@temporalio/common';
import { REFUSAL } from '../../../contracts/messages';
import { ApiError } from './api-error';
import { toErrorResponse } from './error-mapping';

function refusal(type: string, message: string): WorkflowUpdateFailedError {
  return new WorkflowUpdateFailedError(
    'update failed',
    ApplicationFailure.create({ type, message, nonRetryable: true }),
  );
}

describe(toErrorResponse.name, () => {
  it('passes an ApiError through with its status, code, message and details', () => {
    const sut = toErrorResponse(
      new ApiError(422, 'duration-too-long', 'At most PT8H.', { rule: 'flows.x.duration.max' }),
    );
    expect(sut).toEqual({
      status: 422,
      body: {
        error: { code: 'duration-too-long', message: 'At most PT8H.', details: { rule: 'flows.x.duration.max' } },
      },
      serverFault: false,
    });
  });

  it.each([
    [REFUSAL.forbidden, 403, 'forbidden'],
    [REFUSAL.conflict, 409, 'conflict'],
    [REFUSAL.invalid, 422, 'invalid'],
  ])('maps the workflow refusal %s to HTTP %d', (type, status, code) => {
    const sut = toErrorResponse(refusal(type, 'the request is no longer pending'));
    expect(sut.status).toBe(status);
    expect(sut.body.error).toEqual({ code, message: 'the request is no longer pending' });
  });

  it('scrubs e-mail addresses and links from refusal messages', () => {
    const sut = toErrorResponse(refusal(REFUSAL.forbidden, 'alice@example.com may not see https://share.example/abc'));
    expect(sut.body.error.message).toBe('[address] may not see [link]');
  });

  it('does not treat an update failure of an unknown type as a refusal', () => {
    const sut = toErrorResponse(refusal('SomethingElse', 'internal detail: db at 10.0.0.1'));
    expect(sut.status).toBe(500);
    expect(JSON.stringify(sut.body)).not.toContain('10.0.0.1');
  });

  it('maps a missing workflow to 404', () => {
    expect(toErrorResponse(new WorkflowNotFoundError('gone', 'AccessRequest:req_x', undefined)).status).toBe(404);
  });

  it('answers framework errors with its own words, not the framework message', () => {
    const sut = toErrorResponse(new BadRequestException('Unexpected token } in JSON at position 17'));
    expect(sut.status).toBe(400);
    expect(sut.body.error.code).toBe('bad-request');
    expect(sut.body.error.message).not.toContain('position');
    expect(toErrorResponse(new HttpException('too big', 413)).body.error.code).toBe('payload-too-large');
    expect(toErrorResponse(new NotFoundException('Cannot GET /secret/path')).body.error.message).toBe('No such route.');
  });

  it('never shows an unexpected error message or stack to the client', () => {
    const err = new Error('ECONNREFUSED 10.1.2.3:7233 token=abc');
    const sut = toErrorResponse(err);
    expect(sut.status).toBe(500);
    expect(sut.serverFault).toBe(true);
    expect(JSON.stringify(sut.body)).not.toMatch(/ECONNREFUSED|10\.1\.2\.3|token|at /);
  });

  it('says 503 when Temporal is unreachable', () => {
    const err = Object.assign(new Error('14 UNAVAILABLE: connection refused'), { code: 14 });
    expect(toErrorResponse(new Error('wrapped', { cause: err })).status).toBe(503);
  });

  // The errors below are shaped as @temporalio/client throws them for a query: a ServiceError whose
  // cause is the grpc-js error, with the texts the dev server sent when its worker was stopped.
  function failedQuery(code: number, details: string): ServiceError {
    const grpc = Object.assign(new Error(`${code} ${details}`), { code, details });
    return new ServiceError('Failed to query Workflow', { cause: grpc });
  }

  it('says 503 when no worker has polled the task queue lately (the server answers FAILED_PRECONDITION)', () => {
    const err = failedQuery(9, 'FAILED_PRECONDITION: no poller seen for task queue recently, worker may be down');
    expect(toErrorResponse(err)).toMatchObject({ status: 503, body: { error: { code: 'unavailable' } } });
  });

  it('says 503 when a query is cut off by its worker shutting down (CANCELLED)', () => {
    expect(toErrorResponse(failedQuery(1, 'CANCELLED: Call cancelled')).status).toBe(503);
  });

  it('keeps any other FAILED_PRECONDITION a 500', () => {
    expect(toErrorResponse(failedQuery(9, 'FAILED_PRECONDITION: something else')).status).toBe(500);
  });

  it('says 500 for a query the workflow does not answer (QueryNotRegisteredError): a bug, not an outage', () => {
    const err = new QueryNotRegisteredError('Workflow query failed: handler threw', 3);
    expect(toErrorResponse(err).status).toBe(500);
  });
});
