// The session and login cookies are read from the Cookie header in place (no parsing of the
// site's other cookies): only a cookie with exactly that name counts, whatever surrounds it, and
// one named twice is neither value.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SESSION_COOKIE } from '../src/defaults.ts';
import { cookieValue, cookieValues, SENT_TWICE } from '../src/plugins/session-cookie.ts';

const ID = 'A'.repeat(43);

describe('reading one cookie from the Cookie header', () => {
  it('finds it alone, first, last, between others, with spaces around `;` and `=`', () => {
    assert.equal(cookieValue(`${SESSION_COOKIE}=${ID}`, SESSION_COOKIE), ID);
    assert.equal(cookieValue(`${SESSION_COOKIE}=${ID}; theme=dark`, SESSION_COOKIE), ID);
    assert.equal(cookieValue(`theme=dark; ${SESSION_COOKIE}=${ID}`, SESSION_COOKIE), ID);
    assert.equal(cookieValue(`a=1;${SESSION_COOKIE}=${ID};b=2`, SESSION_COOKIE), ID);
    assert.equal(cookieValue(`a=1 ;  ${SESSION_COOKIE} = ${ID} ; b=2`, SESSION_COOKIE), ID);
  });

  it('ignores cookies whose name merely contains it, and names that appear in values', () => {
    assert.equal(cookieValue(`x${SESSION_COOKIE}=${'B'.repeat(43)}`, SESSION_COOKIE), undefined);
    assert.equal(cookieValue(`${SESSION_COOKIE}x=${'B'.repeat(43)}`, SESSION_COOKIE), undefined);
    assert.equal(cookieValue(`note=${SESSION_COOKIE}=${'B'.repeat(43)}`, SESSION_COOKIE), undefined);
    assert.equal(cookieValue(`x${SESSION_COOKIE}=${'B'.repeat(43)}; ${SESSION_COOKIE}=${ID}`, SESSION_COOKIE), ID);
    assert.equal(cookieValue(`note=${SESSION_COOKIE}=${'B'.repeat(43)}; ${SESSION_COOKIE}=${ID}`, SESSION_COOKIE), ID);
  });

  it('reads a cookie named twice as SENT_TWICE, whatever the values and what lies between (decision 0060)', () => {
    const B = 'B'.repeat(43);
    assert.equal(cookieValue(`${SESSION_COOKIE}=${ID}; ${SESSION_COOKIE}=${B}`, SESSION_COOKIE), SENT_TWICE);
    assert.equal(cookieValue(`${SESSION_COOKIE}=${B};${SESSION_COOKIE}=${ID}`, SESSION_COOKIE), SENT_TWICE);
    assert.equal(cookieValue(`${SESSION_COOKIE}=${ID}; theme=dark; ${SESSION_COOKIE}=${ID}`, SESSION_COOKIE), SENT_TWICE);
    assert.equal(cookieValue(`${SESSION_COOKIE}=; a=1;  ${SESSION_COOKIE} = ${ID}`, SESSION_COOKIE), SENT_TWICE);
    // A name that only contains it, or appears in a value, is no second copy.
    assert.equal(cookieValue(`${SESSION_COOKIE}=${ID}; x${SESSION_COOKIE}=${B}; note=${SESSION_COOKIE}=${B}`, SESSION_COOKIE), ID);
    assert.equal(cookieValue(`${SESSION_COOKIE}=${ID}; ${SESSION_COOKIE}x=${B}`, SESSION_COOKIE), ID);
  });

  it('lists every copy of a cookie, in the order sent', () => {
    const B = 'B'.repeat(43);
    assert.deepEqual(cookieValues(`${SESSION_COOKIE}=${ID}; a=1; ${SESSION_COOKIE}=${B}`, SESSION_COOKIE), [ID, B]);
    assert.deepEqual(cookieValues(`x${SESSION_COOKIE}=${B}; ${SESSION_COOKIE}=${ID}`, SESSION_COOKIE), [ID]);
    assert.deepEqual(cookieValues('a=1', SESSION_COOKIE), []);
    assert.deepEqual(cookieValues(undefined, SESSION_COOKIE), []);
  });

  it('answers nothing without the header or the cookie, and an empty value as empty', () => {
    assert.equal(cookieValue(undefined, SESSION_COOKIE), undefined);
    assert.equal(cookieValue('', SESSION_COOKIE), undefined);
    assert.equal(cookieValue('theme=dark', SESSION_COOKIE), undefined);
    assert.equal(cookieValue(SESSION_COOKIE, SESSION_COOKIE), undefined);
    assert.equal(cookieValue(`${SESSION_COOKIE}=; a=1`, SESSION_COOKIE), '');
  });
});
