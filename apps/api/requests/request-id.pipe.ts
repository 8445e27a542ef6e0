import { Injectable, type PipeTransform } from '@nestjs/common';
import { ApiError } from '../errors/api-error';
import { isRequestId } from './request-id';

/** Path ids must look like latchkey's own before anything is asked of Temporal. */
@Injectable()
export class RequestIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!isRequestId(value)) {
      throw new ApiError(400, 'validation-failed', 'The request id is malformed.', [
        { field: 'id', problems: ['must look like req_ followed by 10 to 40 lowercase letters or digits'] },
      ]);
    }
    return value;
  }
}
